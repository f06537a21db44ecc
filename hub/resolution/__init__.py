"""Once-only proof resolution (Art. 8): who may read what (Cedar decisions), the fan-out to sources, the one-time
notice, and the subject's access log."""
