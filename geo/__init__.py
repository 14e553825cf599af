"""Pure geometry: no I/O, no Dash. Coordinates are longitude/latitude (EPSG:4326) unless named."""
