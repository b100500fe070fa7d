#!/usr/bin/env python3
"""The demo input text Memscope ships in resources/inputs/demo.txt.

An original short essay on memory, written for this project, in plain ASCII English. make_fixtures.py
--demo writes it out; keeping it here means the demo models and the demo text are regenerated together.
"""

DEMO_TEXT = """\
On Keeping and Letting Go

A river does not remember the rain that fell on the hills last spring, yet the shape of its banks is a
record of every flood it has carried. Memory often works like that. It is less a box of stored objects than
a set of marks left by what passed through, and each new passage wears some marks deeper and smooths others
away.

Consider a person reading a long novel. By the last chapter she cannot recite the first page, but she knows
who the old gardener was, why the sisters stopped speaking, and what the locked door in the east wing meant.
The words are gone; a compressed account of them remains. Somewhere along the way she decided, without
noticing, what was worth keeping. The name of a minor character seen once in chapter two was allowed to fade.
The promise made on the bridge was held on to, because the story kept returning to it.

Machines that read long texts face the same problem with far less grace. A model that can only look at a
fixed window of recent words forgets everything outside that window completely and at once. Nothing fades
gently; the past simply falls off the edge. One remedy is to give the model a small notebook: a handful of
slots it may write into after each passage and read from while working on the next. The notebook is too
small to copy the text into, so the model has to choose. It may keep what a slot already holds, overwrite it
with something new, or blend the two.

Watching those choices is instructive. Early in a document the notebook is nearly empty of anything useful,
so almost every slot is rewritten with whatever just arrived. Later, some slots settle down. They hold on to
a fact for page after page and only glance at the new words, while a few restless slots keep taking in the
latest details. It is tempting to call the first kind long-term memory and the second kind working memory,
though the labels are ours and not the machine's.

There is a cost to holding on. A slot that never changes is safe but deaf; it cannot learn that the gardener
was, in fact, the missing brother. A slot that always changes is alert but has no history; it knows only the
last paragraph. Good reading, for people and perhaps for models, lives between those extremes. Information
should survive as long as it stays relevant and give way when something more important needs the room.

How would we know whether a model strikes that balance? We can measure how much of each slot comes from its
own previous contents and how much comes from the passage it just read. We can follow a piece of information
forward in time and ask how many steps later some share of it is still present. We can compare the whole
notebook at one moment with the notebook at another and see whether it drifts slowly or lurches. None of
these numbers is the memory itself, just as a map of the river banks is not the river, but together they
sketch where the current has been.

Forgetting deserves more respect than it usually receives. A memory that kept everything would be useless,
because finding the one thing that matters would mean searching through all the things that do not. The
river that flooded everywhere would have no banks at all. What makes a memory good is not how much it holds
but how well its keeping and its letting go fit the world it has to make sense of.

So when we look at the heatmaps of a memory at work, bright bands stretching across many steps and dark
patches where old content was washed away, we are looking at a record of decisions. Some of them will be
wise and some will be mistakes. The point of looking is to learn which is which, and to build the next
notebook a little better than the last.
"""
