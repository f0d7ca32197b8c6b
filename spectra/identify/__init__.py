"""Identification of materials by continuum-removed absorption-feature fits against real reference spectra
(USGS Tetracorder / MICA style), with an explicit ``unknown`` outcome."""

from spectra.identify.features import FEATURES, DiagnosticFeature, FeatureBank
from spectra.identify.identifier import (
           ID_CLASSES,
           Identification,
           Identifier,
           IdentifierParams,
)
from spectra.identify.references import Reference, load_references, material_group

__all__ = [
           "FEATURES",
           "ID_CLASSES",
           "DiagnosticFeature",
           "FeatureBank",
           "Identification",
           "Identifier",
           "IdentifierParams",
           "Reference",
           "load_references",
           "material_group",
]
