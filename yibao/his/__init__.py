"""The hospital side of the national interface: a client that HIS software (and yibao's tests) can use."""

from yibao.his.client import Answer, Client, HisError

__all__ = ["Answer", "Client", "HisError"]
