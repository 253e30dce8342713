# Right, differently: batches moved with torch.as_tensor(x, device=device), .to(device=..., non_blocking=True)
# and .cuda(); the model moved to the device inside train_one_epoch instead of fit.
import copy

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def get_device(prefer="auto"):
    if prefer == "auto":
        prefer = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(prefer)


def normalize(x_train, *others):
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    result = [(x_train - mean) / (std + 1e-7)]
    for x in others:
        result.append((x - mean) / (std + 1e-7))
    return tuple(result)


def build_model(input_size=784, hidden_sizes=(256, 128), num_classes=10):
    layers = []
    prev = input_size
    for h in hidden_sizes:
        layers.append(nn.Linear(prev, h))
        layers.append(nn.ReLU())
        prev = h
    layers.append(nn.Linear(prev, num_classes))
    return nn.Sequential(*layers)


def make_loaders(x_train, t_train, x_val, t_val, batch_size=32):
    train_set = TensorDataset(torch.tensor(x_train, dtype=torch.float32), torch.tensor(t_train, dtype=torch.long))
    val_set = TensorDataset(torch.tensor(x_val, dtype=torch.float32), torch.tensor(t_val, dtype=torch.long))
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=batch_size, shuffle=False)
    return train_loader, val_loader


def train_one_epoch(model, loader, optimizer, loss_fn, device):
    model.train()
    total_loss = 0.0
    n = 0
    model.to(device)  # here rather than in fit: also right
    for x, t in loader:
        x = torch.as_tensor(x, device=device)
        t = t.to(device=device, non_blocking=True)
        optimizer.zero_grad()
        logits = model(x)
        loss = loss_fn(logits, t)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * x.size(0)
        n += x.size(0)
    return total_loss / n


def evaluate(model, loader, loss_fn, device):
    model.eval()
    total_loss = 0.0
    correct = 0
    n = 0
    with torch.no_grad():
        for x, t in loader:
            if torch.device(device).type == "cuda":
                x, t = x.cuda(non_blocking=True), t.cuda(non_blocking=True)
            else:
                x, t = x.to(device), t.to(device)
            logits = model(x)
            total_loss += loss_fn(logits, t).item() * x.size(0)
            correct += (logits.argmax(dim=1) == t).sum().item()
            n += x.size(0)
    return total_loss / n, correct / n


def fit(model, train_loader, val_loader, epochs=10, lr=1e-3, device="cpu", patience=None):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    best_loss = float("inf")
    best_state = copy.deepcopy(model.state_dict())
    bad_epochs = 0
    for epoch in range(epochs):
        train_loss = train_one_epoch(model, train_loader, optimizer, loss_fn, device)
        val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
        history["train_loss"].append(train_loss)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        if val_loss < best_loss:
            best_loss = val_loss
            best_state = copy.deepcopy(model.state_dict())
            bad_epochs = 0
        else:
            bad_epochs += 1
            if patience is not None and bad_epochs >= patience:
                break
    model.load_state_dict(best_state)
    return history
