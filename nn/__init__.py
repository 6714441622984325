"""The textbook network on top of autodiff: modules, losses, optimisers, data, Algorithm 8.1."""
