"""Thin Azure Functions triggers. Each body is one call into shared/; nothing here holds
business logic, so everything is testable without the Functions host."""
