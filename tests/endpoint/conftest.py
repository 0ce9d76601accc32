import pytest

from endpoint.serverkit import SMALL, LiveServer
from peacegraph.server.app import create_app
from peacegraph.server.config import ServerConfig, open_backend


@pytest.fixture(scope="session")
def small_config():
    return ServerConfig(data=[SMALL], workers=1, max_workers=4, timeout=3, idle_seconds=2)


@pytest.fixture(scope="session")
def small_backend(small_config):
    """One started backend over the small fixture, shared by every app the tests make over it
    (an app with another config passes it to create_app as `backend`)."""
    backend = open_backend(small_config)
    backend.start()
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def app(small_config, small_backend):
    return create_app(small_config, backend=small_backend)


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def live():
    server = LiveServer(workers=2, max_workers=12, timeout=2, idle_seconds=2, max_query_length=50_000)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def real_app(built_dist):
    """An app over the real build of the shipped data (the test client's view of the site)."""
    from peacegraph.server.app import close_app

    app = create_app(ServerConfig(data=[built_dist / "peacegraph.trig"], workers=2, max_workers=4, timeout=20))
    yield app
    close_app(app)


@pytest.fixture(scope="session")
def live_real(built_dist):
    """The real server in its own process over the real build, for the browser tests."""
    server = LiveServer(data=[built_dist / "peacegraph.trig"], workers=2, max_workers=4, timeout=20)
    yield server
    server.stop()
