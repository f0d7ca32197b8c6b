"""Exceptions raised by the sampler package.

Every class also inherits the builtin it refines, so callers may catch either
``SamplerError`` or the builtin (``ValueError``, ``RuntimeError``, ``TimeoutError``...).
"""

from __future__ import annotations


class SamplerError(Exception):
    """Base class of every error raised by ``sampler``."""


class PlanError(SamplerError, ValueError):
    """A sampling plan that cannot be made: bad lot mass, unknown class, cutter too small for the top size."""


class RobotError(SamplerError, RuntimeError):
    """The sampling robot could not do what it was asked (busy, faulted, not connected)."""


class RobotBusyError(RobotError):
    """A cut was commanded while the robot still had one pending or in progress."""


class RobotFaultError(RobotError):
    """The robot is in a fault (jam) or emergency-stop state and must be reset first."""


class CutTimeoutError(RobotError, TimeoutError):
    """A cut did not finish within its status timeout."""


class RobotBackendError(SamplerError, LookupError):
    """An unknown robot backend name, or a backend whose module cannot be imported."""


class RobotCommunicationError(RobotError, ConnectionError):
    """The Modbus link to the robot failed or the robot did not acknowledge a command."""


class CustodyError(SamplerError, ValueError):
    """A chain-of-custody record or transition that is not allowed (duplicate id, bad status change)."""


class LabResultError(SamplerError, ValueError):
    """A lab-results file that cannot be imported (unknown or duplicate sample id, value out of range, bad column)."""


class TargetedRequestError(SamplerError, ValueError):
    """A targeted increment request that is refused (too close to the previous one, mark outside the lot)."""


class TargetedSkipError(TargetedRequestError):
    """A targeted request refused at once because the sampler would skip it (rate limit, disabled, too late)."""
