"""The hub's side of connectors: calling sources with deadlines and breakers, their health and probes, uploaded
datasets, the evidence cache, and the connector routes."""
