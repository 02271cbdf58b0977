"""The platform port: the dotdigital REST client and its local sandbox."""
