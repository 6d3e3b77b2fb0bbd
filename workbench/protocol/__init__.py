"""Sans-I/O protocol pieces shared by every model: bytes in, events out (h11's lesson)."""
