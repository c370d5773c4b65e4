import pytest

import promlite

# A fixed time so results are exact: 2023-11-14T22:13:20Z.
T0 = 1_700_000_000


@pytest.fixture
def db(tmp_path):
    with promlite.open(tmp_path / "test.db") as d:
        yield d


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "test.db"
