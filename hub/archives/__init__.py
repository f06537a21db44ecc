"""Electronic archives of concluded cases (regulation Art. 13): package, file, catalogue, dispose.

:mod:`.package` builds and checks the sealed zip of one case (pure: bytes in, bytes out);
:mod:`.filing` gathers a case's documents from the store and files its package when the case
concludes; :mod:`.catalogue` searches the register and disposes of archives whose retention ended.
"""
