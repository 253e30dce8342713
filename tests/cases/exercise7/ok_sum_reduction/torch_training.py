# Correct, differently: losses summed with reduction="sum" and divided once; accuracy via .float().sum().
import copy

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def get_device(prefer="auto"):
    if prefer == "cpu":
        return torch.device("cpu")
    if prefer == "cuda" or torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def normalize(x_train, *others):
    mu = np.mean(x_train, axis=0, keepdims=True)
    sigma = np.sqrt(np.mean((x_train - mu) ** 2, axis=0, keepdims=True))
    return tuple((a - mu) / (sigma + 1e-5) for a in (x_train,) + others)


def build_model(input_size=784, hidden_sizes=(256, 128), num_classes=10):
    sizes = [input_size, *hidden_sizes]
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(sizes[-1], num_classes))


def make_loaders(x_train, t_train, x_val, t_val, batch_size=32):
    def as_set(x, t):
        return TensorDataset(torch.from_numpy(np.asarray(x, dtype=np.float32)),
                             torch.from_numpy(np.asarray(t)).long())

    return (DataLoader(as_set(x_train, t_train), batch_size=batch_size, shuffle=True),
            DataLoader(as_set(x_val, t_val), batch_size=batch_size))


def train_one_epoch(model, loader, optimizer, loss_fn, device):
    model.train()
    running, seen = 0.0, 0
    for inputs, labels in loader:
        inputs, labels = inputs.to(device), labels.to(device)
        optimizer.zero_grad(set_to_none=True)
        out = model(inputs)
        loss = loss_fn(out, labels)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            running += F.cross_entropy(out, labels, reduction="sum").item()
        seen += labels.numel()
    return running / seen


def evaluate(model, loader, loss_fn, device):
    model.eval()
    summed = nn.CrossEntropyLoss(reduction="sum")
    loss_sum, hits, seen = 0.0, 0.0, 0
    with torch.no_grad():
        for inputs, labels in loader:
            inputs, labels = inputs.to(device), labels.to(device)
            out = model(inputs)
            loss_sum += summed(out, labels).item()
            hits += (out.argmax(1) == labels).float().sum().item()
            seen += len(labels)
    return loss_sum / seen, hits / seen


def fit(model, train_loader, val_loader, epochs=10, lr=1e-3, device="cpu", patience=None):
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    best, best_weights, waited = None, None, 0
    for _ in range(epochs):
        history["train_loss"].append(train_one_epoch(model, train_loader, opt, criterion, device))
        val_loss, val_acc = evaluate(model, val_loader, criterion, device)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        if best is None or val_loss < best:
            best, best_weights, waited = val_loss, copy.deepcopy(model.state_dict()), 0
        else:
            waited += 1
        if patience is not None and waited == patience:
            break
    if best_weights is not None:
        model.load_state_dict(best_weights)
    return history
