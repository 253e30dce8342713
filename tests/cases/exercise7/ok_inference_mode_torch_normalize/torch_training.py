# Correct, differently: normalize in torch (unbiased=False, returns tensors), evaluate under torch.inference_mode(), tensors in the history.
import io

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def get_device(prefer="auto"):
    if prefer == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    return torch.device(prefer)


def normalize(x_train, *others):
    train = torch.as_tensor(x_train, dtype=torch.float64)
    mean = train.mean(dim=0)
    std = train.std(dim=0, unbiased=False)
    arrays = [train] + [torch.as_tensor(o, dtype=torch.float64) for o in others]
    return tuple((a - mean) / (std + 1e-5) for a in arrays)


def build_model(input_size=784, hidden_sizes=(256, 128), num_classes=10):
    blocks = []
    for n_in, n_out in zip((input_size, *hidden_sizes), hidden_sizes):
        blocks.append(nn.Sequential(nn.Linear(n_in, n_out), nn.ReLU()))
    last = hidden_sizes[-1] if len(hidden_sizes) else input_size
    return nn.Sequential(*blocks, nn.Linear(last, num_classes))


def make_loaders(x_train, t_train, x_val, t_val, batch_size=32):
    def tensors(x, t):
        return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(t, dtype=torch.int64)

    return (DataLoader(TensorDataset(*tensors(x_train, t_train)), batch_size=batch_size, shuffle=True),
            DataLoader(TensorDataset(*tensors(x_val, t_val)), batch_size=batch_size, shuffle=False))


def train_one_epoch(model, loader, optimizer, loss_fn, device):
    model.train()
    total = torch.zeros((), dtype=torch.float64)
    count = 0
    for x, t in loader:
        x = x.to(device, non_blocking=True)
        t = t.to(device, non_blocking=True)
        optimizer.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        optimizer.step()
        total += loss.detach().double().cpu() * len(t)
        count += len(t)
    return total / count


def evaluate(model, loader, loss_fn, device):
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.inference_mode():
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
    best_loss, best_buffer, without_improvement = float("inf"), None, 0
    for _ in range(epochs):
        history["train_loss"].append(train_one_epoch(model, train_loader, optimizer, loss_fn, device))
        val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
        history["val_loss"].append(torch.tensor(val_loss))
        history["val_acc"].append(val_acc)
        if val_loss < best_loss:
            best_loss, without_improvement = val_loss, 0
            best_buffer = io.BytesIO()
            torch.save(model.state_dict(), best_buffer)
        else:
            without_improvement += 1
            if patience is not None and without_improvement >= patience:
                break
    best_buffer.seek(0)
    model.load_state_dict(torch.load(best_buffer, map_location=device))
    return history
