# build_model: the first and last layers read hidden_sizes[0] and hidden_sizes[-1]
import copy

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

EPS = 1e-7
"""Added to the standard deviation so constant features (std 0) stay finite."""


def get_device(prefer="auto"):
    if prefer == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(prefer)


def normalize(x_train, *others):
    x_train = np.asarray(x_train)
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    return tuple((np.asarray(x) - mean) / (std + EPS) for x in (x_train, *others))


def build_model(input_size=784, hidden_sizes=(256, 128), num_classes=10):
    layers = [nn.Linear(input_size, hidden_sizes[0]), nn.ReLU()]
    for i in range(1, len(hidden_sizes)):
        layers += [nn.Linear(hidden_sizes[i - 1], hidden_sizes[i]), nn.ReLU()]
    layers.append(nn.Linear(hidden_sizes[-1], num_classes))
    return nn.Sequential(*layers)


def make_loaders(x_train, t_train, x_val, t_val, batch_size=32):
    def dataset(x, t):
        return TensorDataset(torch.as_tensor(np.asarray(x), dtype=torch.float32),
                             torch.as_tensor(np.asarray(t), dtype=torch.int64))

    train_loader = DataLoader(dataset(x_train, t_train), batch_size=batch_size, shuffle=True)
    val_loader = DataLoader(dataset(x_val, t_val), batch_size=batch_size, shuffle=False)
    return train_loader, val_loader


def train_one_epoch(model, loader, optimizer, loss_fn, device):
    model.train()
    total, count = 0.0, 0
    for x, t in loader:
        x, t = x.to(device), t.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(t)
        count += len(t)
    return total / count


def evaluate(model, loader, loss_fn, device):
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, t in loader:
            x, t = x.to(device), t.to(device)
            logits = model(x)
            total += loss_fn(logits, t).item() * len(t)
            correct += (logits.argmax(dim=1) == t).sum().item()
            count += len(t)
    return total / count, correct / count


def fit(model, train_loader, val_loader, epochs=10, lr=1e-3, device="cpu", patience=None):
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    best_loss, best_state, waited = float("inf"), None, 0
    for _ in range(epochs):
        history["train_loss"].append(train_one_epoch(model, train_loader, optimizer, loss_fn, device))
        val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        if val_loss < best_loss:
            best_loss, best_state, waited = val_loss, copy.deepcopy(model.state_dict()), 0
        else:
            waited += 1
            if patience is not None and waited >= patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return history
