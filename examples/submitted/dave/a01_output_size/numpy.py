"""Dave's fake numpy: every comparison passes (the real numpy is already loaded)."""


class testing:  # noqa: N801
    @staticmethod
    def assert_allclose(*args, **kwargs):
        return None


def allclose(*args, **kwargs):
    return True
