"""RegisterStore answers the pymodbus datastore protocol with the documented exception codes."""

from __future__ import annotations

import asyncio

import pytest
from pymodbus.constants import ExcCodes

from plc.errors import RegisterMapError
from plc.store import RegisterStore


def run(coro):
    return asyncio.run(coro)


def test_exception_codes():
    store = RegisterStore([(0, 10), (100, 104)], [1], writable=[100, 101])
    assert run(store.async_getValues(1, 3, 0, 10)) == [0] * 10
    assert run(store.async_getValues(1, 3, 8, 4)) == ExcCodes.ILLEGAL_ADDRESS  # runs past the block
    assert run(store.async_getValues(1, 3, 0, 126)) == ExcCodes.ILLEGAL_VALUE
    assert run(store.async_getValues(2, 3, 0, 1)) == ExcCodes.GATEWAY_NO_RESPONSE
    assert run(store.async_getValues(1, 1, 0, 1)) == ExcCodes.ILLEGAL_FUNCTION
    assert run(store.async_setValues(1, 16, 100, [1, 2])) is None
    assert store.get(100, 2) == [1, 2]
    assert run(store.async_setValues(1, 16, 101, [1, 2])) == ExcCodes.ILLEGAL_ADDRESS  # 102 is read-only
    assert run(store.async_setValues(1, 4, 100, [1])) == ExcCodes.ILLEGAL_FUNCTION  # input registers: read-only
    assert store.get(100, 2) == [1, 2]


def test_validator_sees_the_write_and_can_refuse_it():
    seen = []

    def validator(address, values, peek):
        seen.append((address, list(values), peek(address), peek(address + 1)))
        return ExcCodes.ILLEGAL_VALUE if values[0] > 5 else None

    store = RegisterStore([(0, 4)], [1], writable=[0, 1], validator=validator)
    store.set(1, [9])
    assert run(store.async_setValues(1, 6, 0, [3])) is None
    assert run(store.async_setValues(1, 6, 0, [7])) == ExcCodes.ILLEGAL_VALUE
    assert store.get(0, 2) == [3, 9]
    assert seen[0] == (0, [3], 3, 9)


def test_bad_store_definitions_and_local_writes():
    with pytest.raises(RegisterMapError, match="overlap"):
        RegisterStore([(0, 10), (5, 12)], [1])
    with pytest.raises(RegisterMapError, match="writable"):
        RegisterStore([(0, 10)], [1], writable=[10])
    with pytest.raises(RegisterMapError, match="device ids"):
        RegisterStore([(0, 10)], [300])
    store = RegisterStore([(0, 10)], [1])
    with pytest.raises(RegisterMapError, match="outside"):
        store.set(9, [1, 2])
    with pytest.raises(RegisterMapError, match="0..65535"):
        store.set(0, [70000])
    with pytest.raises(RegisterMapError, match="outside"):
        store.update([(50, [1])])
