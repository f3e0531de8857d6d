"""Conversion to and from AALpy automata, and an AALpy system-under-learning for an RNN (optional extra).

AALpy (DES-Lab/AALpy) learns automata actively (L*, KV) from a black box. This module lets
neurograph's :class:`~neurograph.automata.FSA` and AALpy's ``Dfa`` / ``MooreMachine`` meet,
so an FSA extracted from hidden states can sit beside one learned by L* from the same network:

* :func:`to_aalpy` -- FSA with outputs in {0, 1} -> ``aalpy.automata.Dfa`` (output 1 = accepting);
* :func:`from_aalpy` -- ``Dfa`` or ``MooreMachine`` (int or bool outputs) -> FSA;
* :func:`classifier_sul` -- an ``aalpy.base.SUL`` stepping a
  :class:`~neurograph.models.recurrent.RecurrentClassifier` one token at a time (output after
  every step: whether the network's class is 1), for ``aalpy.learning_algs.run_Lstar``.

AALpy is imported only when one of these functions runs; without it they raise ImportError
naming ``pip install aalpy``.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .fsa import FSA

__all__ = ["AALPY_HINT", "classifier_sul", "from_aalpy", "to_aalpy"]

#: The message of the ImportError raised when AALpy is missing.
AALPY_HINT = "the AALpy conversions need the optional package aalpy: pip install aalpy"


def to_aalpy(fsa: FSA):
    """``fsa`` as an ``aalpy.automata.Dfa`` over its token ids (states named as in the FSA).

    Raises
    ------
    ImportError
        AALpy is not installed (the message names ``pip install aalpy``).
    DataError
        ``fsa`` has outputs other than 0 and 1 (a DFA accepts or rejects).

    Examples
    --------
    >>> parity = FSA.from_spec({"e": (True, {0: "e", 1: "o"}), "o": (False, {0: "o", 1: "e"})})
    >>> dfa = to_aalpy(parity)                                  # doctest: +SKIP
    >>> dfa.execute_sequence(dfa.initial_state, [1, 1])[-1]     # doctest: +SKIP
    True
    """
    if not isinstance(fsa, FSA):
        raise DataError(f"fsa must be an FSA, got {type(fsa).__name__}")
    bad = sorted(set(fsa.outputs.tolist()) - {0, 1})
    if bad:
        raise DataError(f"an AALpy Dfa needs outputs 0/1; this FSA has classes {bad}")
    Dfa, DfaState = _aalpy_dfa()
    names = fsa.names()
    states = [DfaState(names[s], bool(fsa.outputs[s] == 1)) for s in range(fsa.n_states)]
    for s, st in enumerate(states):
        for j, a in enumerate(fsa.alphabet.tolist()):
            st.transitions[int(a)] = states[int(fsa.transitions[s, j])]
    return Dfa(states[int(fsa.start)], states)


def from_aalpy(automaton) -> FSA:
    """An FSA from an AALpy ``Dfa`` or ``MooreMachine`` whose inputs are token ids (ints).

    A DFA's accepting states get output 1, the others 0; a Moore machine's outputs must be
    ints or bools. The start state is the automaton's initial state; states keep their
    ``state_id`` as names; a missing transition is a self-loop.

    Raises
    ------
    DataError
        Not a Dfa / MooreMachine, inputs that are not ints, or Moore outputs that are not ints.

    Examples
    --------
    >>> parity = FSA.from_spec({"e": (True, {0: "e", 1: "o"}), "o": (False, {0: "o", 1: "e"})})
    >>> from_aalpy(to_aalpy(parity)) == parity                  # doctest: +SKIP
    True
    """
    states = getattr(automaton, "states", None)
    init = getattr(automaton, "initial_state", None)
    if states is None or init is None:
        raise DataError(f"automaton must be an AALpy Dfa or MooreMachine, got {type(automaton).__name__}")
    states = list(states)
    symbols = sorted({a for st in states for a in st.transitions})
    if any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) for a in symbols):
        raise DataError(f"the automaton's inputs must be int token ids, got {symbols[:5]!r}")
    index = {id(st): i for i, st in enumerate(states)}
    trans = np.tile(np.arange(len(states), dtype=np.int64)[:, None], (1, len(symbols)))
    outputs = np.zeros(len(states), np.int64)
    for i, st in enumerate(states):
        if hasattr(st, "is_accepting"):
            outputs[i] = int(bool(st.is_accepting))
        else:
            out = getattr(st, "output", None)
            if isinstance(out, (bool, np.bool_, int, np.integer)):
                outputs[i] = int(out)
            else:
                raise DataError(f"Moore state {st.state_id!r} has output {out!r}; outputs must be ints or bools")
        for j, a in enumerate(symbols):
            nxt = st.transitions.get(a)
            if nxt is not None:
                trans[i, j] = index[id(nxt)]
    return FSA(transitions=trans, outputs=outputs, alphabet=np.array(symbols, np.int64).reshape(-1),
               start=index[id(init)], state_names=tuple(str(st.state_id) for st in states),
               params={"source": f"aalpy {type(automaton).__name__}"})


def classifier_sul(model, *, positive: int = 1):
    """An ``aalpy.base.SUL`` that runs a recurrent classifier one token at a time.

    ``model`` needs the :class:`~neurograph.models.recurrent.RecurrentClassifier` step
    interface: ``initial_state(n)``, ``input_vectors(tokens)``, ``rnn.step``, ``rnn.hidden``,
    ``rnn.state_size`` and ``readout``. After every token the output is whether the
    network's class is ``positive`` (the empty word: its class from the initial state), so
    L* learns a DFA (``automaton_type="dfa"``). Runs under ``torch.no_grad`` in eval mode;
    the model's train/eval mode is restored by :meth:`post`.
    """
    import torch

    SUL = _aalpy_sul()

    class _ClassifierSUL(SUL):
        def __init__(self):
            super().__init__()
            self.model = model
            self.state = None
            self._was_training = None

        def pre(self):
            self._was_training = self.model.training
            self.model.eval()
            with torch.no_grad():
                h = self.model.initial_state(1)
                extra = self.model.rnn.state_size - h.shape[-1]
                self.state = torch.cat([h, h.new_zeros(1, extra)], dim=-1) if extra > 0 else h

        def post(self):
            if self._was_training:
                self.model.train()
            self.state = None

        def step(self, letter):
            with torch.no_grad():
                if letter is not None:
                    x = self.model.input_vectors(torch.tensor([int(letter)]))
                    self.state = self.model.rnn.step(x, self.state)
                logits = self.model.readout(self.model.rnn.hidden(self.state))
            return bool(int(logits.argmax(dim=-1)[0]) == positive)

    return _ClassifierSUL()


# ---------------------------------------------------------------------- helpers
def _aalpy_dfa():
    try:
        from aalpy.automata import Dfa, DfaState
    except ImportError as exc:
        raise ImportError(AALPY_HINT) from exc
    return Dfa, DfaState


def _aalpy_sul():
    try:
        from aalpy.base import SUL
    except ImportError as exc:
        raise ImportError(AALPY_HINT) from exc
    return SUL
