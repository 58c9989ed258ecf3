"""Ports to the outside world (documents, blobs, messaging, mail), each with an Azure
implementation and an embedded default. Domain packages never import from here."""
