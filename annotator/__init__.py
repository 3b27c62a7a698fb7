"""GAS annotation engine: reference install/load (`reference`) and VCF annotation (`engine`)."""

__version__ = "0.1.0"
