"""Where the hub keeps documents (sealed PDFs, uploads, archive packages): blob stores behind one small
interface, found by kind through the ``hub.blob_stores`` entry points. Knows nothing of the hub."""
