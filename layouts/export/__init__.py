"""Exports for slides and print: the print theme, chart figures for print, server-side rendering."""
