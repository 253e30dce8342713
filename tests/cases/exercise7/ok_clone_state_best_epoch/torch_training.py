# Correct, differently: best weights kept as cloned tensors, patience measured from the best epoch's index.
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def get_device(prefer="auto"):
    name = prefer
    if prefer == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def normalize(x_train, *others):
    x_train = np.asarray(x_train, dtype=np.float64)
    mean, std = x_train.mean(0), x_train.std(0)
    eps = 1e-8
    out = [(x_train - mean) / (std + eps)]
    out += [(np.asarray(o, dtype=np.float64) - mean) / (std + eps) for o in others]
    return tuple(out)


def build_model(input_size=784, hidden_sizes=(256, 128), num_classes=10):
    model = nn.Sequential()
    width = input_size
    for i, size in enumerate(hidden_sizes):
        model.add_module(f"fc{i}", nn.Linear(width, size))
        model.add_module(f"relu{i}", nn.ReLU(inplace=True))
        width = size
    model.add_module("out", nn.Linear(width, num_classes))
    return model


def make_loaders(x_train, t_train, x_val, t_val, batch_size=32):
    train = TensorDataset(torch.as_tensor(x_train).float(), torch.as_tensor(t_train).long())
    val = TensorDataset(torch.as_tensor(x_val).float(), torch.as_tensor(t_val).long())
    return DataLoader(train, batch_size, shuffle=True), DataLoader(val, batch_size, shuffle=False)


def train_one_epoch(model, loader, optimizer, loss_fn, device):
    model.train()
    losses, counts = [], []
    for x, t in loader:
        x, t = x.to(device), t.to(device)
        model.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach() * len(t))
        counts.append(len(t))
    return (torch.stack(losses).sum() / sum(counts)).item()


def evaluate(model, loader, loss_fn, device):
    model.eval()
    losses, correct, total = 0.0, 0, 0
    with torch.no_grad():
        for x, t in loader:
            x, t = x.to(device), t.to(device)
            logits = model(x)
            losses += float(loss_fn(logits, t)) * len(t)
            correct += int((logits.argmax(-1) == t).sum())
            total += len(t)
    return losses / total, correct / total


def fit(model, train_loader, val_loader, epochs=10, lr=1e-3, device="cpu", patience=None):
    device = get_device(device) if isinstance(device, str) else device
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    train_losses, val_losses, val_accs = [], [], []
    best_epoch, best_state = -1, None
    for epoch in range(epochs):
        train_losses.append(train_one_epoch(model, train_loader, optimizer, loss_fn, device))
        val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
        val_losses.append(val_loss)
        val_accs.append(val_acc)
        if best_state is None or val_loss < val_losses[best_epoch]:
            best_epoch = epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        elif patience is not None and epoch - best_epoch >= patience:
            break
    model.load_state_dict(best_state)
    return {"train_loss": train_losses, "val_loss": val_losses, "val_acc": val_accs}
