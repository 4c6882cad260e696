"""One adapter per API: a kio request becomes engine requests, their answers one response tree."""
