"""The Pulumi stacks offline: run the program under Pulumi's mocks and keep what it would create."""
