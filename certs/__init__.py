"""Trust and documents: the hub's PKI, seal keys, licence PDFs, PAdES signing and verification.

A library with no knowledge of Flask or Redis: the hub stores what these functions return and
hands it back to them.
"""
