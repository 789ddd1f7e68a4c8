"""The Profiles dialog, in parts: the list (``list_model``), the form (``form``), the Test
connection row (``connection_test``), small pieces they share (``widgets``), and the dialog that
puts them together (``dialog``). The rules they follow live in ``services/profile_admin.py``."""
