# ws module: sources and unit tests (included from Makefile.am)
