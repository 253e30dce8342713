# Correct, differently: statistics in float64 whatever the input dtype, a custom nn.Module over
# nn.ModuleList, labels converted with .long(), the best epoch's index kept, patience by index.
import copy

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def get_device(prefer="auto"):
    if prefer == "cpu":
        return torch.device("cpu")
    if prefer == "cuda":
        return torch.device("cuda")
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def normalize(x_train, *others):
    train64 = np.asarray(x_train, dtype=np.float64)
    mean = train64.mean(axis=0)
    std = train64.std(axis=0)
    return (train64 - mean) / (std + 1e-8), *[(np.asarray(o, np.float64) - mean) / (std + 1e-8) for o in others]


class MLP(nn.Module):
    def __init__(self, input_size, hidden_sizes, num_classes):
        super().__init__()
        sizes = [input_size, *hidden_sizes, num_classes]
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))

    def forward(self, x):
        for layer in self.linears[:-1]:
            x = F.relu(layer(x))
        return self.linears[-1](x)


def build_model(input_size=784, hidden_sizes=(256, 128), num_classes=10):
    return MLP(input_size, hidden_sizes, num_classes)


def make_loaders(x_train, t_train, x_val, t_val, batch_size=32):
    tr = TensorDataset(torch.as_tensor(x_train).float(), torch.as_tensor(t_train).long())
    va = TensorDataset(torch.as_tensor(x_val).float(), torch.as_tensor(t_val).long())
    return DataLoader(tr, batch_size, shuffle=True), DataLoader(va, batch_size)


def train_one_epoch(model, loader, optimizer, loss_fn, device):
    model.train()
    total = torch.zeros(())
    n = 0
    for x, t in loader:
        x, t = x.to(device), t.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        optimizer.step()
        total += loss.detach().cpu() * len(x)
        n += len(x)
    return (total / n).item()


@torch.no_grad()
def evaluate(model, loader, loss_fn, device):
    model.eval()
    total = correct = n = 0
    for x, t in loader:
        x, t = x.to(device), t.to(device)
        logits = model(x)
        total += loss_fn(logits, t).item() * x.shape[0]
        correct += (logits.argmax(1) == t).sum().item()
        n += x.shape[0]
    return total / n, correct / n


def fit(model, train_loader, val_loader, epochs=10, lr=1e-3, device="cpu", patience=None):
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    best_epoch, best_loss, best_state = -1, np.inf, None
    for epoch in range(epochs):
        history["train_loss"].append(train_one_epoch(model, train_loader, optimizer, loss_fn, device))
        val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        if val_loss < best_loss:
            best_epoch, best_loss, best_state = epoch, val_loss, copy.deepcopy(model.state_dict())
        elif patience is not None and epoch - best_epoch >= patience:
            break
    model.load_state_dict(best_state)
    return history
