import promlite

def test_import():
    assert promlite.__version__
