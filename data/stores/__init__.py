"""The stores behind one contract: the embedded GeoPackage and PostGIS, their spatial backends
and the PostGIS migrations."""
