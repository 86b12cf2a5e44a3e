"""The official client's face: ``from polygon import RESTClient`` replaces ``from massive import RESTClient``.

``RESTClient`` has every method of ``massive.RESTClient`` whose endpoint polygon-kit serves, with the same
arguments and result shapes; its models (``polygon.official.models``) have the official attribute names.
Everything per method is generated from schema/official/ (``polygon._generated.official``).
"""

from polygon.official.client import RESTClient
from polygon.official.response import RawResponse, RequestOptionBuilder

__all__ = ["RESTClient", "RawResponse", "RequestOptionBuilder"]
