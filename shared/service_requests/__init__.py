"""Service requests: what customers ask branch staff and the call centre for, and its SLA."""
