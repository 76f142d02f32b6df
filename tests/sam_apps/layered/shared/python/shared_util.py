"""The shared layer's module: on sys.path through the layer's python/ folder."""


def greeting(name: str) -> str:
    return f"hello {name} from the shared layer"
