"""Sans-I/O protocol pieces shared by every model: bytes in, events out, no sockets (h11's lesson)."""
