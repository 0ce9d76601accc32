import pytest

from .serverkit import SMALL, LiveServer


@pytest.fixture(scope="session")
def small_config():
    from peacegraph.server.config import ServerConfig
    return ServerConfig(data=[SMALL], workers=1, max_workers=4, timeout=3, idle_seconds=2)


@pytest.fixture(scope="session")
def app(small_config):
    from peacegraph.server.app import close_app, create_app
    application = create_app(small_config)
    yield application
    close_app(application)


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def live():
    server = LiveServer(workers=2, max_workers=12, timeout=2, idle_seconds=2, max_query_length=50_000)
    yield server
    server.stop()
