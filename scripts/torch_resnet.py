"""The CIFAR ResNets in PyTorch, written independently of the TypeScript specs: the option-A ResNets (20-110) shared
by the parity-fixture and benchmark scripts, and the BasicBlock 64-512 variant (ResNet18/34 with projection
shortcuts) of make-cifar-basic-resnet.py (test and benchmark references only, never product code)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.subsample = stride != 1 or cin != cout
        self.extra = (cout - cin) // 2

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        # Option A: identity on every second pixel, new channels zero (split evenly before and after).
        s = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.extra, self.extra)) if self.subsample else x
        return F.relu(h + s)


class CifarResNet(nn.Module):
    """forward returns (pooled features, logits)."""

    def __init__(self, depth, classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        stages, cin = [], 16
        for i, width in enumerate([16, 32, 64]):
            blocks = []
            for b in range(n):
                blocks.append(Block(cin, width, 2 if i > 0 and b == 0 else 1))
                cin = width
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        features = x.mean(dim=(2, 3))
        return features, self.linear(features)


class ProjectionBlock(Block):
    """The same block with a 1 x 1 convolution + BatchNorm shortcut where the shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__(cin, cout, stride)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(h + self.shortcut(x))


class CifarBasicResNet(nn.Module):
    """Four stages of 64-512 channels, a 3 x 3 stride-1 stem and no max pool; forward returns (pooled features, logits)."""

    def __init__(self, blocks, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        cin, stages = 64, []
        for i, (width, count) in enumerate(zip([64, 128, 256, 512], blocks)):
            layer = []
            for b in range(count):
                layer.append(ProjectionBlock(cin, width, 2 if i > 0 and b == 0 else 1))
                cin = width
            stages.append(nn.Sequential(*layer))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.linear = nn.Linear(512, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        features = F.avg_pool2d(x, 4).flatten(1)
        return features, self.linear(features)


def load_state(path):
    """The checkpoint's state dict without DataParallel's `module.` prefix ({'state_dict': ...} or bare)."""
    ckpt = torch.load(path, map_location="cpu")
    state = ckpt.get("state_dict", ckpt)
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
