# Correct, differently: torch statistics, evaluate passes over the loader twice, early stopping
# read off the history with argmin, the best model kept as a deep copy of the whole module.
import copy

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def get_device(prefer="auto"):
    if prefer == "cuda" or (prefer == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def normalize(x_train, *others):
    xt = torch.as_tensor(np.asarray(x_train), dtype=torch.float64)
    mean = xt.mean(dim=0)
    std = xt.std(dim=0, unbiased=False)
    out = []
    for x in (x_train, *others):
        z = (torch.as_tensor(np.asarray(x), dtype=torch.float64) - mean) / (std + 1e-6)
        out.append(z.numpy())
    return tuple(out)


def build_model(input_size=784, hidden_sizes=(256, 128), num_classes=10):
    widths = [input_size] + list(hidden_sizes) + [num_classes]
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def make_loaders(x_train, t_train, x_val, t_val, batch_size=32):
    train = TensorDataset(torch.tensor(np.array(x_train, dtype=np.float32)),
                          torch.tensor(np.array(t_train).astype(np.int64)))
    val = TensorDataset(torch.tensor(np.array(x_val, dtype=np.float32)),
                        torch.tensor(np.array(t_val).astype(np.int64)))
    return DataLoader(train, batch_size=batch_size, shuffle=True), DataLoader(val, batch_size=batch_size)


def train_one_epoch(model, loader, optimizer, loss_fn, device):
    model.train()
    losses = []
    for x, t in loader:
        x = x.to(device)
        t = t.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        optimizer.step()
        losses.append(loss.item() * t.shape[0])
    return sum(losses) / len(loader.dataset)


def evaluate(model, loader, loss_fn, device):
    model.eval()
    with torch.no_grad():
        loss_sum = sum(loss_fn(model(x.to(device)), t.to(device)).item() * len(t) for x, t in loader)
        right = sum(int((model(x.to(device)).argmax(dim=-1) == t.to(device)).sum()) for x, t in loader)
    n = len(loader.dataset)
    return loss_sum / n, right / n


def fit(model, train_loader, val_loader, epochs=10, lr=1e-3, device="cpu", patience=None):
    model = model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    best_model = None
    for epoch in range(epochs):
        history["train_loss"].append(train_one_epoch(model, train_loader, opt, criterion, device))
        loss, acc = evaluate(model, val_loader, criterion, device)
        history["val_loss"].append(loss)
        history["val_acc"].append(acc)
        best_epoch = int(np.argmin(history["val_loss"]))  # the first of equal minima: strictly below
        if best_epoch == epoch:
            best_model = copy.deepcopy(model)
        if patience is not None and epoch - best_epoch >= patience:
            break
    model.load_state_dict(best_model.state_dict())
    return history
