"""find / find_one filter exactly as civis-python 2.10.1's."""
from civis_dyn import Response, find, find_one

R1 = Response({"foo": 0, "bar": "a", "baz": True})
R2 = Response({"foo": 1, "bar": "b", "baz": True})
R3 = Response({"foo": 2, "bar": "b", "baz": False})
ALL = [R1, R2, R3]


def test_true_matches_only_values_that_are_true():
    """civis-python: ``archived=True`` keeps objects whose value ``is True``, not every object with the key."""
    assert find(ALL, baz=True) == [R1, R2]
    assert find(ALL, bar=True) == [] and find(ALL, foo=True) == []


def test_false_does_not_match_zero():
    """civis-python: ``=False`` keeps values that ``is False``; ``0`` and ``""`` do not match."""
    assert find(ALL, baz=False) == [R3]
    assert find(ALL, foo=False) == []


def test_filter_func_is_used_alone():
    """civis-python: with ``filter_func`` the keyword filters are ignored."""
    assert find(ALL, lambda o: o.foo == 2, bar="a") == [R3]
    assert find_one(ALL, lambda o: o.foo > 0, foo=0) is R2


def test_callable_values_and_missing_attributes():
    """civis-python: a callable value is applied to the attribute; a missing attribute never matches."""
    assert find(ALL, foo=int) == [R2, R3]  # int(0) is falsy
    assert find(ALL, wrong_attr="whatever") == []
    assert find(ALL, foo=1, bar="b") == [R2] and find_one(ALL, bar="zzz") is None
