# Correct, differently: a custom nn.Module with forward, a custom Dataset, and a training loader shuffled by its own unseeded generator.
import copy
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset


def get_device(prefer="auto"):
    if prefer != "auto":
        return torch.device(prefer)
    return torch.device("cuda:0") if torch.cuda.is_available() else torch.device("cpu")


def normalize(x_train, *others):
    stats = (x_train.mean(axis=0), x_train.std(axis=0, ddof=0))
    scale = stats[1] + 1e-6
    return (x_train - stats[0]) / scale, *[(x - stats[0]) / scale for x in others]


class MLP(nn.Module):
    def __init__(self, input_size, hidden_sizes, num_classes):
        super().__init__()
        sizes = [input_size, *hidden_sizes]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.head = nn.Linear(sizes[-1], num_classes)

    def forward(self, x):
        for layer in self.hidden:
            x = F.relu(layer(x))
        return self.head(x)


def build_model(input_size=784, hidden_sizes=(256, 128), num_classes=10):
    return MLP(input_size, hidden_sizes, num_classes)


class ArrayDataset(Dataset):
    def __init__(self, x, t):
        self.x = torch.tensor(np.asarray(x), dtype=torch.float32)
        self.t = torch.tensor(np.asarray(t), dtype=torch.int64)

    def __len__(self):
        return len(self.t)

    def __getitem__(self, i):
        return self.x[i], self.t[i]


def make_loaders(x_train, t_train, x_val, t_val, batch_size=32):
    generator = torch.Generator().manual_seed(int.from_bytes(os.urandom(4), "little"))
    train_loader = DataLoader(ArrayDataset(x_train, t_train), batch_size=batch_size, shuffle=True,
                              generator=generator)
    val_loader = DataLoader(ArrayDataset(x_val, t_val), batch_size=batch_size)
    return train_loader, val_loader


def train_one_epoch(model, loader, optimizer, loss_fn, device):
    model.train()
    total, n = 0.0, 0
    for x, t in loader:
        x, t = x.to(device), t.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        optimizer.step()
        total += loss.item() * t.shape[0]
        n += t.shape[0]
    return total / n


def evaluate(model, loader, loss_fn, device):
    model.eval()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for x, t in loader:
            x, t = x.to(device), t.to(device)
            logits = model(x)
            total += loss_fn(logits, t).item() * t.shape[0]
            correct += (torch.max(logits, 1).indices == t).sum().item()
            n += t.shape[0]
    return total / n, correct / n


def fit(model, train_loader, val_loader, epochs=10, lr=1e-3, device="cpu", patience=None):
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    best_loss, best_model, stale = float("inf"), copy.deepcopy(model), 0
    for epoch in range(1, epochs + 1):
        history["train_loss"].append(train_one_epoch(model, train_loader, optimizer, loss_fn, device))
        loss, acc = evaluate(model, val_loader, loss_fn, device)
        history["val_loss"].append(loss)
        history["val_acc"].append(acc)
        print(f"epoch {epoch}: train {history['train_loss'][-1]:.4f} val {loss:.4f} acc {acc:.3f}")
        if loss < best_loss:
            best_loss, best_model, stale = loss, copy.deepcopy(model), 0
            continue
        stale += 1
        if patience and stale >= patience:
            print("early stop")
            break
    model.load_state_dict(best_model.state_dict())
    return history
