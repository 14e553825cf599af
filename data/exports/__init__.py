"""Files for briefing authors: tables as CSV (UTF-8 with BOM) and Excel (XLSX)."""
