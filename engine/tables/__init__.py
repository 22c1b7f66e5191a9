"""Tables as officers and enterprises keep them: CSV from Excel or WPS, XLSX workbooks, JSON Lines.

One set of rules for every command that reads or writes a table (evaluate, simulate, submit,
telemetry, export): which encoding a CSV file is in (``encoding``), how a spreadsheet's cell
becomes the contract's value (``cells``), which column a header names (``headers``), and which
format a file name asks for on output (``writing``). The row readers themselves are
engine.contract.formats's; the application template is ``template``.
"""
