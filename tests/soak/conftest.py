def pytest_addoption(parser):
    parser.addoption("--soak-seconds", type=float, default=10.0,
                     help="how long the soak test loads the server (default 10; `make soak` uses 60)")


def pytest_configure(config):
    config.addinivalue_line("markers", "soak: load test of the endpoint (8 clients, research queries, 5% hostile)")
