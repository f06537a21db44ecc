"""E-licences and seals (Art. 11, 12): the PKI, agency seals, issuing and the licence register, sealing service,
and verification of uploaded documents."""
