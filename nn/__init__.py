"""The textbook network on top of autodiff: modules, losses, optimisers, data, Algorithm 8.1."""

from . import datasets, losses, textbook
from .curvature import exact_hessian, outer_product_hessian
from .draw import draw_network
from .live import LiveView
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge,
    mse,
    sse,
)
from .module import MLP, Layer, Module, Neuron
from .optim import SGD, Adam
from .training import History, evaluate, train

__all__ = [
    "MLP",
    "SGD",
    "Adam",
    "History",
    "Layer",
    "LiveView",
    "Module",
    "Neuron",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "datasets",
    "draw_network",
    "evaluate",
    "exact_hessian",
    "hinge",
    "losses",
    "mse",
    "outer_product_hessian",
    "sse",
    "textbook",
    "train",
]
