"""Local fakes of outside services, speaking real HTTP, for tests."""
