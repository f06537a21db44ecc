"""Intake (regulation Art. 6, 7, 9, 10, 14): applications submitted by front-ends, resolved once-only,
completed by uploads, processed by the lead agency and its co-agencies on a working-day clock."""
