"""PyTorch's side of bench/e2e/bench_resnet.cpp: torchvision ResNets on 3x32x32 images, 10
classes; a training step (forward, cross-entropy, backward, SGD momentum 0.9) and an eval forward.
The metric is seconds per step (shown as ms); images/s = batch / that."""
import torch
import torch.nn.functional as F


def _model(depth):
    import torchvision
    return getattr(torchvision.models, f"resnet{depth}")(num_classes=10)


def _train_setup(depth, batch):
    def setup():
        torch.manual_seed(0)
        model = _model(depth)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        return model, opt, torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))
    return setup


def _train_step(model, opt, x, y):
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()
    opt.step()


def _eval_setup(depth, batch):
    def setup():
        torch.manual_seed(0)
        return _model(depth).eval(), torch.randn(batch, 3, 32, 32)
    return setup


def _eval_step(model, x):
    with torch.no_grad():
        model(x)


WORKLOADS = []
for depth in (18, 50):
    for batch in (32, 128):
        WORKLOADS.append(dict(bench="bench_resnet", name=f"BM_resnet_train_step/{depth}/{batch}",
                              metric="ms", work=None, torch_setup=_train_setup(depth, batch),
                              torch_fn=_train_step))
        WORKLOADS.append(dict(bench="bench_resnet", name=f"BM_resnet_eval/{depth}/{batch}",
                              metric="ms", work=None, torch_setup=_eval_setup(depth, batch),
                              torch_fn=_eval_step))
