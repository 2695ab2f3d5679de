"""Regenerate ``llama_data/samples/books/``, the demo's Books sample, byte for byte: three invented
books (our own text, see the sample's README), each written by a seeded generator from its OWN
sentence templates and word lists, so that two books share no 5-word shingle by accident, in the
formats the books job reads:

- ``pg90001.txt``: book A as a current Project Gutenberg file (``*** START OF THE PROJECT
  GUTENBERG EBOOK ... ***`` header, ``*** END OF ...`` footer);
- ``90001-0.txt``: A', an older edition of A in the 2000s form (``*** START OF THIS PROJECT
  GUTENBERG EBOOK``, a ``Produced by`` line), a few sentences changed and its last paragraphs
  missing: the planted near-duplicate (containment >= 0.9: dropped);
- ``books3-sample.tar.gz``: a Books3-style tarball of ``.txt`` books under ``books3/``: book B,
  book C and B's revised edition, three paragraphs in ten rewritten in another voice (containment
  about 0.8: kept; a fifth rewritten leaves 0.87, as template phrases recur across a book).

Members are sorted, mtime 0, gzip with no name; the generators use ``random.Random(seed)``, whose
``choice``, ``randrange`` and ``sample`` are stable across Python versions. The containments are
measured here with the job's own shingles and printed (the README quotes them).

    .venv/bin/python scripts/make_books_sample.py
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import random
import tarfile
from pathlib import Path

from llama_data.dedup.minhash import containment, jaccard, shingles
from llama_data.sources.books import strip_gutenberg

OUTPUT = Path(__file__).resolve().parent.parent / "llama_data" / "samples" / "books"


@dataclasses.dataclass(frozen=True)
class Style:
    """A book's voice: sentence templates with ``{slot}`` holes, and the words for each slot."""

    templates: tuple[str, ...]
    slots: dict[str, tuple[str, ...]]

    def sentence(self, rng: random.Random) -> str:
        template = rng.choice(self.templates)
        filled = {name: rng.choice(words) for name, words in self.slots.items()}
        text = template.format(**filled)
        return text[0].upper() + text[1:]

    def paragraph(self, rng: random.Random) -> list[str]:
        return [self.sentence(rng) for _ in range(rng.randrange(4, 8))]


LIGHTHOUSE = Style(
    templates=(
        "the lamp was lit at {hour} and the {weather} held until the {watch} watch",
        "I trimmed the {wick} wick twice before {hour}, for the {weather} made it smoke",
        "a {vessel} passed {bearing} the reef, showing her {lights} lights, and I logged her",
        "the oil store stands at {casks} casks; the tender is owed to us by {weekday}",
        "gulls crowded the gallery rail while the {weather} drove spray over the {rock} rock",
        "my assistant {assistant} kept the {watch} watch and reported the glass {glass}",
        "I wound the clockwork of the lens at {hour}, and it turned true through the {watch} watch",
        "the foghorn sounded {count} times before the {weather} lifted off the {rock} rock",
        "{assistant} scraped salt from the lantern panes, whistling a {tune} tune",
        "no {vessel} came near, and I mended the {gear} by the stove until {hour}",
        "the tide stood {tide} at noon, and the {rock} rock showed its weed like a {beast}",
        "we ate {meal} and spoke little, the {weather} rattling the iron door",
    ),
    slots={
        "hour": ("dusk", "four bells", "half past six", "moonrise", "the turn of the tide",
                 "seven by the brass clock", "the second lamp check", "nightfall"),
        "weather": ("sea mist", "north gale", "sleet squall", "hard frost", "westerly blow",
                    "grey drizzle", "easterly swell", "thunder cloud", "brine fog"),
        "watch": ("middle", "morning", "dog", "first", "late"),
        "wick": ("brass", "cotton", "spare", "new", "scorched", "outer"),
        "vessel": ("collier brig", "herring smack", "pilot cutter", "mail steamer",
                   "grain barque", "revenue sloop", "coasting schooner", "trawler"),
        "bearing": ("north of", "south by east of", "west of", "two points off", "close inshore of",
                    "well seaward of"),
        "lights": ("masthead", "port and starboard", "stern", "riding", "dim"),
        "casks": ("nine", "eleven", "fourteen", "sixteen", "twenty", "seven"),
        "weekday": ("Monday", "Tuesday", "Thursday", "Saturday", "the next spring tide"),
        "rock": ("Gull", "Skerry", "Widow's", "outer", "black", "cormorant"),
        "assistant": ("Tam Ruddle", "young Ewart", "old Brannock", "the relief keeper"),
        "glass": ("falling", "steady", "rising fast", "low and sullen", "jumping"),
        "count": ("forty", "ninety", "two hundred", "sixty", "a hundred and ten"),
        "tune": ("reel", "hymn", "shanty", "lullaby", "march"),
        "gear": ("bell rope", "storm shutter", "oil pump", "signal flag", "rain barrel"),
        "tide": ("slack", "high", "low", "on the ebb", "making"),
        "beast": ("drowned pony", "sleeping otter", "wet dog", "great seal", "old bear"),
        "meal": ("salt cod", "oatcakes", "pea broth", "smoked mutton", "barley porridge"),
    },
)

GARDEN = Style(
    templates=(
        "in {month} the {crop} went into the {bed} bed, {depth} deep in crumbled loam",
        "the {wall} wall gave warmth enough for {fruit} to blush before {month} ended",
        "I lifted {crop} by the {bed} border and laid them on sacking to cure",
        "slugs found the {crop} seedlings overnight, so I ringed them with {guard}",
        "the gardener's boy {boy} barrowed {manure} from the stable yard to the {bed} bed",
        "{fruit} trees along the {wall} wall want pruning while their buds sleep",
        "a {bird} sang from the espalier as I sowed a second row of {crop}",
        "we staked the {flower} against the {wind}, tying each stem with soft {twine}",
        "the cold frame held {crop} under glass, vented an inch on mild {month} mornings",
        "{boy} sieved leaf mould for the potting bench while rain drummed on the {shed}",
        "I saved seed from the best {flower} heads and hung them in paper bags in the {shed}",
        "the hoe went through the {bed} bed each dry {day}, keeping weeds from seeding",
    ),
    slots={
        "month": ("March", "April", "May", "June", "July", "August", "September", "October"),
        "crop": ("broad beans", "shallots", "parsnips", "early potatoes", "runner beans",
                 "leeks", "lettuces", "beetroot", "carrots", "onion sets"),
        "bed": ("long", "south", "asparagus", "kitchen", "sunken", "herb"),
        "depth": ("a thumb", "two inches", "a hand", "four inches", "barely an inch"),
        "wall": ("red brick", "old flint", "east", "glasshouse", "orchard"),
        "fruit": ("apricots", "pears", "plums", "greengages", "peaches", "quinces"),
        "guard": ("soot", "crushed eggshell", "sharp grit", "wood ash", "copper bands"),
        "boy": ("Jory", "little Nat", "Abel Crane", "the new lad"),
        "manure": ("rotted dung", "spent hops", "seaweed", "leaf litter", "horse muck"),
        "bird": ("blackbird", "robin", "song thrush", "wren", "chaffinch"),
        "flower": ("delphiniums", "hollyhocks", "sweet peas", "dahlias", "lupins", "phlox"),
        "wind": ("equinox gales", "May winds", "squalls", "westerlies", "summer storms"),
        "twine": ("raffia", "jute", "bast", "wool", "tarred string"),
        "shed": ("potting shed", "bothy roof", "tool house", "apple loft"),
        "day": ("afternoon", "Tuesday", "morning", "evening", "Saturday"),
    },
)

# The revised garden book's new paragraphs: another voice on the same garden.
GARDEN_REVISED = Style(
    templates=(
        "our {plot} plot yielded {yield_} this season, reckoned by the {measure}",
        "visitors admired the {feature}, though nobody guessed how many {pest} it hides",
        "a neighbour swapped {gift} for cuttings of my {climber}",
        "rainfall ran {rain} of usual, and the water butt by the {feature} stayed {level}",
        "I would now advise any beginner to plant {climber} beside a {feature}",
        "the almanac promised {omen}; instead came {rain} weeks of sun",
    ),
    slots={
        "plot": ("allotment", "cutting", "nursery", "trial", "orchard"),
        "yield_": ("three bushels", "a fair crop", "barely a basket", "a glut", "two trugs"),
        "measure": ("bushel", "peck", "trugful", "pound", "hamper"),
        "feature": ("sundial", "dipping pond", "yew arch", "rose pergola", "bee bole"),
        "pest": ("earwigs", "woodlice", "wasps", "voles", "aphids"),
        "gift": ("honey", "quince jelly", "a clutch of duck eggs", "tobacco", "rhubarb crowns"),
        "climber": ("clematis", "honeysuckle", "jasmine", "wisteria", "climbing roses"),
        "rain": ("half", "a third", "twice", "nowhere near", "well short"),
        "level": ("brimming", "half empty", "green", "dry", "scummed"),
        "omen": ("floods", "an early frost", "blight", "a wet harvest", "hail"),
    },
)

VOYAGE = Style(
    templates=(
        "we weighed anchor off {port} with {cargo} stowed below and a {breeze} breeze",
        "the mate {mate} took a noon sight and put us {miles} miles east of reckoning",
        "Captain Odrun ordered the {sail} reefed as the {sky} sky darkened",
        "{mate} caught a {fish} off the taffrail, and the cook fried it in {fat}",
        "for {days} days the {breeze} breeze held and the log line ran out clean",
        "a {whale} blew to windward, and every hand crowded the {rail} rail to see",
        "the pumps were worked each glass; the hold took {water} of water in the {sky} weather",
        "we raised {island} at dawn, its peak wrapped in {cloud} cloud",
        "the crew sang at the capstan, and {mate} spliced a parted {rope}",
        "biscuit ran short, so {ration} were served out at {port} prices",
    ),
    slots={
        "port": ("Harl Quay", "Tesmouth", "Porth Veyle", "Saint Aubric", "Corrant Roads"),
        "cargo": ("bolts of calico", "tinned pilchards", "slate", "crated clocks",
                  "raw cotton", "lamp oil", "coffee sacks"),
        "breeze": ("fresh", "fitful", "steady trade", "backing", "following", "light airs"),
        "mate": ("Hollis Dray", "Mister Quayle", "Finch the bosun", "the second mate"),
        "miles": ("twelve", "thirty", "eight", "forty", "nineteen"),
        "sail": ("topsails", "mainsail", "jib", "foresail", "mizzen"),
        "sky": ("copper", "mackerel", "leaden", "squally", "sulphur"),
        "fish": ("bonito", "dorado", "flying fish", "albacore", "mackerel shoal"),
        "fat": ("pork dripping", "ship's butter", "lard", "rendered suet"),
        "days": ("three", "five", "eleven", "nine", "six"),
        "whale": ("sperm whale", "humpback", "pod of pilot whales", "great fin whale"),
        "rail": ("lee", "weather", "quarterdeck", "forecastle"),
        "water": ("a foot", "six inches", "two feet", "a little"),
        "island": ("Mount Ysolde", "the Carrack Isles", "Brenner's Rock", "Tollan Head"),
        "cloud": ("white", "cotton", "anvil", "rose-tinted"),
        "rope": ("halyard", "brace", "sheet", "backstay", "bowline"),
        "ration": ("dried peas", "salt pork", "rice", "hard tack"),
    },
)


def chapters(style: Style, seed: int, words: int, heading: str) -> list[list[str]]:
    """Paragraphs of sentences until the book has ``words`` words; a heading every fifth."""
    rng = random.Random(seed)
    paragraphs: list[list[str]] = []
    total = 0
    while total < words:
        if len(paragraphs) % 5 == 0:
            paragraphs.append([f"{heading} {len(paragraphs) // 5 + 1}"])
        paragraph = style.paragraph(rng)
        paragraphs.append(paragraph)
        total += sum(len(s.split()) for s in paragraph)
    return paragraphs


def render(paragraphs: list[list[str]]) -> str:
    return "\n\n".join(". ".join(p) + ("." if len(p) > 1 else "") for p in paragraphs) + "\n"


def older_edition(paragraphs: list[list[str]], style: Style, seed: int) -> list[list[str]]:
    """A' of A: about 3% of sentences said otherwise, the last 4% of paragraphs lost."""
    rng = random.Random(seed)
    kept = paragraphs[:len(paragraphs) * 96 // 100]
    return [[style.sentence(rng) if len(p) > 1 and rng.random() < 0.03 else s for s in p]
            for p in kept]


def revised_edition(paragraphs: list[list[str]], style: Style, seed: int) -> list[list[str]]:
    """B's revision: three text paragraphs in ten rewritten in another voice."""
    rng = random.Random(seed)
    text = [i for i, p in enumerate(paragraphs) if len(p) > 1]
    rewritten = set(rng.sample(text, len(text) * 3 // 10))
    return [style.paragraph(rng) if i in rewritten else p for i, p in enumerate(paragraphs)]


def gutenberg(title: str, author: str, body: str, current: bool) -> str:
    """A Project Gutenberg file around ``body``: the current (2020s) or the 2000s header form.
    The licence that real files carry is not reproduced (see the README)."""
    upper = title.upper()
    if current:
        return (f"The Project Gutenberg eBook of {title}\n\n"
                "This sample file was written for llama-data; it imitates the layout of a "
                "Project Gutenberg file, not its text.\n\n"
                f"Title: {title}\n\nAuthor: {author}\n\n"
                "Release Date: March 3, 2026 [eBook #90001]\n\nLanguage: English\n\n"
                f"*** START OF THE PROJECT GUTENBERG EBOOK {upper} ***\n\n\n{body}\n\n"
                f"*** END OF THE PROJECT GUTENBERG EBOOK {upper} ***\n\n"
                "[A real file goes on with Project Gutenberg's licence: not reproduced here.]\n")
    return (f"The Project Gutenberg EBook of {title}, by {author}\n\n"
            "This sample file was written for llama-data, in the layout of the 2000s.\n\n"
            f"Title: {title}\n\nAuthor: {author}\n\n"
            "Release Date: June 9, 2004 [EBook #90001]\n\nLanguage: English\n\n"
            f"*** START OF THIS PROJECT GUTENBERG EBOOK {upper} ***\n\n\n\n\n"
            "Produced by the llama-data authors\n\n\n\n\n"
            f"{body}\n\n\nEnd of the Project Gutenberg EBook of {title}, by {author}\n\n"
            f"*** END OF THIS PROJECT GUTENBERG EBOOK {upper} ***\n\n"
            "[A real file goes on with Project Gutenberg's licence: not reproduced here.]\n")


def tarball(folder: str, files: dict[str, str]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            data = files[name].encode("utf-8")
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def main() -> None:
    a = chapters(LIGHTHOUSE, 1, 2200, "Log, week")
    b = chapters(GARDEN, 2, 1800, "Part")
    c = chapters(VOYAGE, 3, 1600, "Chapter")
    texts = {"A pg90001.txt": render(a), "A' 90001-0.txt": render(older_edition(a, LIGHTHOUSE, 4)),
             "B": render(b), "B revised": render(revised_edition(b, GARDEN_REVISED, 5)),
             "C": render(c)}
    title_a = "The Lamp at Gull Rock"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "pg90001.txt").write_text(
        gutenberg(title_a, "Maren Tollis", texts["A pg90001.txt"].rstrip(), current=True),
        encoding="utf-8")
    (OUTPUT / "90001-0.txt").write_text(
        gutenberg(title_a, "Maren Tollis", texts["A' 90001-0.txt"].rstrip(), current=False),
        encoding="utf-8")
    (OUTPUT / "books3-sample.tar.gz").write_bytes(tarball("books3", {
        "A Year in the Walled Garden - Osric Fenwell.epub.txt": texts["B"],
        "A Year in the Walled Garden (Revised Edition) - Osric Fenwell.epub.txt":
            texts["B revised"],
        "The Voyage of the Kestrel - Idony Marsh.epub.txt": texts["C"]}))
    for name in ("pg90001.txt", "90001-0.txt"):  # the job cuts the header as written
        body, _ = strip_gutenberg((OUTPUT / name).read_text(encoding="utf-8"))
        assert body.rstrip() == texts[("A " if name.startswith("pg") else "A' ") + name].rstrip()
    found = {name: shingles(text) for name, text in texts.items()}
    for name, text in texts.items():
        print(f"{name}: {len(text.split())} words, {len(found[name])} shingles")
    names = list(texts)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            print(f"{first} ~ {second}: containment "
                  f"{containment(found[first], found[second]):.3f}, "
                  f"Jaccard {jaccard(found[first], found[second]):.3f}")


if __name__ == "__main__":
    main()
