"""Regenerate ``llama_data/samples/c4/c4-demo.00000-of-00001.json.gz``, the demo's C4 sample,
byte for byte: every page is written out below (our own prose, see the sample's README), and the
file is gzipped with no name and mtime 0, so that the same script always writes the same bytes.

    .venv/bin/python scripts/make_c4_sample.py
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

OUTPUT = (Path(__file__).resolve().parent.parent / "llama_data" / "samples" / "c4"
          / "c4-demo.00000-of-00001.json.gz")

# Ordinary English web pages, as the released C4 holds them: one line per paragraph, no title
# (a title has no terminal punctuation, so C4's rules removed it).
ORDINARY = [
    ("https://crumbs-and-kettle.example/recipes/weeknight-lentil-soup", "2019-04-18T09:12:44Z", """\
This is the soup I make when the fridge is nearly empty and everyone is hungry by six o'clock.
You need one onion, two carrots, a stick of celery, a cup of red lentils and a litre of stock.
Soften the chopped vegetables in a little olive oil for about ten minutes, stirring now and then.
Add the rinsed lentils and the stock, bring it to a simmer and cook for twenty minutes until the lentils fall apart.
A squeeze of lemon at the end makes all the difference, so please do not skip it.
The soup keeps for three days in the fridge and freezes well in small tubs."""),
    ("https://crumbs-and-kettle.example/recipes/lemon-drizzle-traybake", "2019-03-02T15:40:03Z", """\
My grandmother baked this in a battered tin every Saturday, and I still use her quantities.
Cream 225 grams of soft butter with the same weight of caster sugar until pale and fluffy.
Beat in four eggs one at a time, then fold in 275 grams of self-raising flour and the zest of two lemons.
Spread the batter in a lined tin and bake at 180 degrees for thirty-five minutes.
While the cake is still warm, pour over the juice of the lemons mixed with granulated sugar.
The sugar sets into a crisp crust as it cools, which is the whole point of a drizzle cake."""),
    ("https://oakford-echo.example/news/2019/04/new-footbridge-opens-over-the-mill-stream", "2019-04-11T07:05:19Z", """\
Walkers in Oakford can once again cross the mill stream without a detour of almost a mile.
The timber footbridge, which replaces one washed away in the floods two winters ago, opened on Tuesday morning.
Councillor Ruth Amberley cut the ribbon in front of about forty residents and pupils from the primary school.
The bridge cost the parish council just over ninety thousand pounds, most of it from a flood recovery grant.
"People have been asking for this every week since the old one went," said Ms Amberley.
The path along the stream will stay closed at the northern end until the new handrail is fitted next month."""),
    ("https://oakford-echo.example/news/2019/03/library-extends-saturday-opening", "2019-03-21T18:22:51Z", """\
Oakford Library will stay open until five o'clock on Saturdays from the first of April.
The change follows a survey in which more than three hundred readers asked for longer weekend hours.
The extra time will be covered by volunteers from the Friends of Oakford Library, who will also run a children's reading hour.
Head librarian Tomas Greer said the library had seen its busiest winter for a decade.
Visitors can still return books at any time through the drop box beside the main door."""),
    ("https://harbour-gazette.example/news/lifeboat-crew-rescue-two-kayakers", "2019-02-27T11:48:36Z", """\
Two kayakers were brought ashore by the Port Wenlow lifeboat on Sunday afternoon after being caught by a strong offshore wind.
The crew launched at a quarter past two and found the pair clinging to one of their boats about a mile from Gull Point.
Both were cold but unhurt, and they were checked by paramedics on the slipway.
The lifeboat station reminds everyone going on the water to check the forecast and to carry a way of calling for help.
This was the crew's eleventh call-out of the year so far."""),
    ("https://gearcheck-reviews.example/kitchen/stovetop-espresso-maker-review", "2019-01-30T20:14:09Z", """\
The Brewmark Classic is a six-cup aluminium moka pot that sells for around thirty dollars.
We used it every morning for a month on gas and electric hobs to see how it holds up.
The coffee is strong and full-bodied, closer to espresso than anything a drip machine makes.
The handle stays cool enough to hold, although the lid knob gets hot after a few minutes.
Cleaning is simple: rinse each part in warm water and let it dry before putting it back together.
If you want a cheap way to make rich coffee at home, this pot is easy to recommend."""),
    ("https://riverside-bakery.example/shop/seeded-rye-loaf", "2019-04-02T08:30:00Z", """\
Our seeded rye is made with a sourdough starter we have kept going since the bakery opened.
Each loaf weighs about 800 grams and is packed with sunflower, pumpkin and linseed.
It is dense, moist and keeps well for up to a week when wrapped in a cloth.
Slice it thinly and toast it, or serve it with smoked fish and soft cheese.
Loaves are baked on Tuesdays, Thursdays and Saturdays and can be reserved by phone.
Ingredients: rye flour, water, seeds, salt and sourdough culture. Contains no added yeast."""),
    ("https://fixit-at-home.example/guides/how-to-bleed-a-radiator", "2019-01-14T13:02:27Z", """\
If the top of a radiator stays cold while the bottom is warm, air is trapped inside and it needs bleeding.
First turn the heating off and let the radiators cool, because the water inside can be very hot.
Find the small valve at the top corner of the radiator and hold a cloth underneath it.
Turn the valve anticlockwise with a radiator key, about a quarter of a turn, until you hear air hissing out.
As soon as water starts to drip, close the valve again.
Check the pressure gauge on your boiler afterwards and top it up if it has fallen below one bar."""),
    ("https://fixit-at-home.example/guides/fixing-a-dripping-tap", "2019-02-05T10:55:12Z", """\
A tap that drips once a second wastes thousands of litres of water a year, and the fix is usually cheap.
Turn off the water supply to the tap using the isolating valve under the sink.
Open the tap to drain any water left in the pipe, then put the plug in so that small parts cannot fall down the drain.
Remove the tap head and unscrew the valve to reach the worn washer or ceramic cartridge.
Take the old part to a hardware shop so that you can buy an exact match.
Fit the new part, put the tap back together and turn the water on slowly."""),
    ("https://greenfinger-diaries.example/2019/03/planting-early-potatoes", "2019-03-28T16:37:45Z", """\
The soil in the top bed finally felt warm enough this weekend, so the early potatoes went in.
I had left the seed potatoes in egg boxes on the kitchen windowsill for four weeks to sprout.
Each one went into a trench about fifteen centimetres deep, with the shoots pointing upwards.
I space them thirty centimetres apart, with the rows a little more than half a metre apart.
When the leaves appear I will draw soil up around them to protect them from any late frost.
With luck we will be eating new potatoes with butter and mint by the end of June."""),
    ("https://greenfinger-diaries.example/2019/04/saving-tomato-seeds", "2019-04-20T19:03:31Z", """\
Saving seed from your own tomatoes costs nothing and gives you plants suited to your garden.
Choose a ripe fruit from a healthy plant of a variety that is not a hybrid.
Scoop the seeds and their jelly into a jar, add a splash of water and leave it on a windowsill for three days.
A layer of mould will form on top, which sounds unpleasant but helps remove the gel coating.
Rinse the seeds in a sieve, spread them on a plate and let them dry completely.
Store them in a labelled paper envelope in a cool, dry drawer until spring."""),
    ("https://trailhead-notes.example/walks/ridge-loop-from-kestrel-farm", "2019-04-07T06:50:58Z", """\
This circular walk is about eleven kilometres long and takes most people four hours.
Park in the small lay-by opposite Kestrel Farm and follow the bridleway uphill past the old barn.
The climb is steady rather than steep, and the views open out after the second gate.
Keep the wall on your left along the ridge until you reach the stone cairn at the summit.
The descent follows a stony track that can be slippery after rain, so good boots are worth it.
There is a tea room in the village at the end, which is open every day except Monday."""),
    ("https://quietcode.example/blog/why-we-write-tests-first", "2019-03-09T22:17:40Z", """\
When our team started writing tests before code, the first week felt slow and awkward.
A test written first forces you to decide what a function should do before you decide how it does it.
It also tells you when you are finished, which is surprisingly hard to know otherwise.
We found that the functions we wrote this way were smaller and easier to change later.
The habit does not suit every problem, and exploratory work is often better done without it.
For the core of a product that many people depend on, though, we would not go back."""),
    ("https://quietcode.example/blog/reading-stack-traces", "2019-02-16T14:26:03Z", """\
A stack trace looks intimidating, but it is simply a list of the calls that were active when something went wrong.
Start at the line that names the error, because it usually says in plain words what failed.
Then look for the first frame that points into your own code rather than a library.
That frame is where your program handed the library something it did not expect.
Read the values involved at that point, and the cause is often obvious.
With practice you will spend less time staring at traces and more time fixing the real problem."""),
    ("https://pawprint-vets.example/advice/caring-for-an-older-dog", "2019-01-22T09:41:15Z", """\
Most dogs are considered seniors from about seven years of age, and larger breeds a little earlier.
Older dogs often sleep more and may be slower on walks, which is normal.
Shorter and more frequent walks are kinder to stiff joints than one long outing.
Watch for changes in drinking, appetite or weight, and tell your vet if you notice them.
A soft bed away from draughts and a non-slip mat on smooth floors can make a big difference.
We recommend a health check every six months for dogs in their later years."""),
    ("https://westfield-primary.example/news/spring-term-sports-day", "2019-03-15T12:00:00Z", """\
Thank you to all the families who came to cheer on our pupils at sports day last Friday.
The weather held, and every child took part in at least three events.
Blue team won the relay by a whisker, and Green team took the overall trophy.
Year Six ran the refreshment stall and raised one hundred and twelve pounds for new playground equipment.
Photographs will be shared on the parents' noticeboard next week.
Please check that any lost jumpers are collected from the office before the Easter holidays."""),
    ("https://linden-cycles.example/products/city-commuter-hybrid", "2019-04-09T17:25:38Z", """\
The City Commuter is a light hybrid bike built for daily rides on roads and towpaths.
It has an aluminium frame, an eight-speed hub gear and hydraulic disc brakes that work well in the wet.
Mudguards, a rear rack and dynamo lights come fitted, so it is ready to ride from the day you buy it.
The bike is available in three frame sizes, and our staff will help you choose the right one.
Every bike we sell comes with a free safety check after the first six weeks.
Price includes assembly and delivery within ten miles of the shop."""),
    ("https://moneysense-weekly.example/articles/building-an-emergency-fund", "2019-02-11T08:15:27Z", """\
An emergency fund is money set aside for surprises, such as a broken boiler or a sudden gap between jobs.
Many advisers suggest saving enough to cover three months of essential spending.
That can feel out of reach, so start with a smaller goal, such as one month, and build from there.
Set up a standing order that moves a fixed amount into a separate savings account on payday.
Keep the account easy to reach but not linked to your everyday card, so that you are not tempted to dip into it.
Once the fund is in place, you will find unexpected bills far less frightening."""),
    ("https://oakford-library.example/events/family-history-workshop", "2019-04-16T10:30:10Z", """\
Have you ever wondered where your great-grandparents lived or what work they did?
Join local historian Margaret Voss for a friendly introduction to researching your family tree.
She will show how to use census returns, parish registers and old newspapers, many of which are free to search in the library.
Bring any names, dates or photographs you already have, however few.
The workshop runs from two until four o'clock on the last Saturday of the month.
Places are free but limited to twenty, so please book at the front desk."""),
    ("https://harbour-gazette.example/whats-on/summer-regatta-returns", "2019-04-24T13:44:52Z", """\
The Port Wenlow regatta will return this August after a two-year break, the organisers have confirmed.
Races for dinghies, rowing gigs and children's rafts will run over the bank holiday weekend.
The harbour wall will host food stalls, a brass band and a sandcastle competition.
Organisers are looking for volunteers to help with parking, safety boats and the lost children tent.
Anyone interested can sign up at the harbour office, which is open every weekday morning."""),
]

# Copies of ordinary pages that differ only in case, digits and spacing: the same text after the
# dedup normalisation, at another URL (syndicated news, mirrored pages). Exact dedup drops them.
DUPLICATES = [
    ("https://coastal-news-network.example/2019/03/01/lifeboat-crew-rescue-two-kayakers", "2019-03-01T04:12:00Z",
     "https://harbour-gazette.example/news/lifeboat-crew-rescue-two-kayakers",
     lambda text: text.replace("Two kayakers were brought ashore",
                            "TWO KAYAKERS WERE BROUGHT ASHORE").replace(". ", ".  ")),
    ("https://recipe-mirror.example/c/crumbs-and-kettle/weeknight-lentil-soup", "2019-04-22T23:59:59Z",
     "https://crumbs-and-kettle.example/recipes/weeknight-lentil-soup",
     lambda text: text.replace("This is the soup I make", "THIS IS THE  SOUP\tI MAKE")),
    ("https://oakford-echo.example/print/library-extends-saturday-opening", "2019-03-22T06:01:44Z",
     "https://oakford-echo.example/news/2019/03/library-extends-saturday-opening",
     lambda text: text.lower().replace("\n", " \n  ")),
    ("https://riverside-bakery.example/shop/seeded-rye-loaf?ref=2", "2019-04-03T08:30:00Z",
     "https://riverside-bakery.example/shop/seeded-rye-loaf",
     lambda text: text.replace("800 grams", "900 grams").replace("  ", " ")),
]

# English pages that the C4 rules of Raffel et al. (2020) act on; in the released C4 these rules
# are already done, so ``prepare c4`` keeps them, and ``--from commoncrawl`` cleans or drops them.
C4_RULES = [
    ("https://oakford-echo.example/news/2019/04/road-closure-for-resurfacing", "2019-04-12T10:10:10Z", """\
Road closure for resurfacing
Home
News
Sport
What's on
Market Street will be closed to traffic for five days from Monday while the road is resurfaced.
Buses will be diverted along Church Lane, and temporary stops will be marked with yellow signs.
Residents will still be able to reach their homes, although there may be short delays.
The work is part of a programme to repair roads damaged during last winter's frosts.
Share this story
Read more
This site uses cookies to give you the best experience. By continuing you agree to our cookie policy.
Please enable JavaScript to view the comments powered by our comment system."""),
    ("https://learn-local-history.example/topics/the-oakford-canal", "2019-03-30T15:15:15Z", """\
The Oakford canal
The canal was dug between 1794 and 1797 to carry coal from the valley pits to the river.[1]
At its busiest, more than forty narrowboats a week passed through the town lock.[2]
Traffic fell away after the railway arrived in 1851, and the last cargo was carried in 1923.[citation needed]
History [edit]
Volunteers began clearing the towpath in the 1970s, and most of it is now a public footpath.[3]
The old lock keeper's cottage was restored in 2004 and now houses a small museum."""),
    ("https://pixelnest-themes.example/demo/starter-blog", "2019-02-02T02:02:02Z", """\
Starter Blog theme demo
Welcome to the demo of our Starter Blog theme, which shows how your posts will look once it is installed.
Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.
Replace this paragraph with your own words, and add a photograph to make the page your own.
Each post can have a featured image, categories, tags and a short summary for the front page.
The theme works on phones, tablets and desktop screens without any extra settings."""),
    ("https://quietcode.example/blog/config-files-for-beginners", "2019-03-19T19:19:19Z", """\
Config files for beginners
Most programs read their settings from a small text file when they start.
A common format is JSON, in which a setting looks like this: { "port": 8080, "debug": false }.
Keep the file in version control, but never put passwords or secret keys in it.
If a program refuses to start after you edit its config, the file most likely has a missing comma or quote.
A good editor will highlight the mistake for you before you save."""),
    ("https://gearcheck-reviews.example/kitchen/best-toasters-2019", "2019-01-05T05:05:05Z", """\
Sorry, this page could not be found.
Try the search box at the top of the page to find what you were looking for."""),
    ("https://westfield-primary.example/newsletter/april", "2019-04-26T16:00:00Z", """\
April newsletter
Dates for your diary
Tuesday 7 May: class photographs
Friday 17 May: non-uniform day
Thursday 23 May: Year Four trip to the castle
Half term begins on Friday 24 May
Clubs
Football, choir and chess club continue every week
Thank you
We are very grateful to everyone who donated to the book sale, which raised two hundred pounds for the library.
Have a lovely weekend, everyone!"""),
]

# Pages in other languages: language ID keeps only English and drops them.
OTHER_LANGUAGES = [
    ("https://cuisine-de-margot.example/fr/recettes/soupe-de-lentilles", "2019-04-01T12:34:56Z", """\
Soupe de lentilles corail
Voici la soupe que je prépare quand le réfrigérateur est presque vide et que tout le monde a faim.
Faites revenir un oignon, deux carottes et une branche de céleri dans un peu d'huile d'olive pendant dix minutes.
Ajoutez les lentilles rincées et un litre de bouillon, puis laissez mijoter vingt minutes.
Un filet de jus de citron à la fin change tout, alors ne l'oubliez pas.
La soupe se conserve trois jours au réfrigérateur et se congèle très bien."""),
    ("https://echo-du-village.example/fr/actualites/nouvelle-passerelle", "2019-04-13T08:00:00Z", """\
Une nouvelle passerelle au-dessus du ruisseau
Les promeneurs peuvent de nouveau traverser le ruisseau du moulin sans faire un long détour.
La passerelle en bois remplace celle qui avait été emportée par les inondations il y a deux ans.
Une quarantaine d'habitants et les élèves de l'école primaire ont assisté à l'inauguration mardi matin.
Le chemin restera fermé au nord jusqu'à la pose de la nouvelle rampe le mois prochain."""),
    ("https://heimwerker-tipps.example/de/anleitungen/heizkoerper-entlueften", "2019-01-15T09:00:00Z", """\
Heizkörper richtig entlüften
Wenn ein Heizkörper oben kalt bleibt und unten warm ist, hat sich Luft darin gesammelt.
Schalten Sie zuerst die Heizung aus und lassen Sie die Heizkörper abkühlen.
Halten Sie ein Tuch unter das kleine Ventil an der oberen Ecke und öffnen Sie es mit einem Entlüftungsschlüssel.
Sobald Wasser austritt, schließen Sie das Ventil wieder.
Prüfen Sie danach den Druck an der Heizungsanlage und füllen Sie bei Bedarf Wasser nach."""),
    ("https://tageblatt-talblick.example/de/lokales/bibliothek-samstags-laenger-offen", "2019-03-23T10:20:30Z", """\
Bibliothek samstags länger geöffnet
Die Stadtbibliothek bleibt ab April samstags bis siebzehn Uhr geöffnet.
Mehr als dreihundert Leserinnen und Leser hatten sich in einer Umfrage längere Öffnungszeiten gewünscht.
Die zusätzlichen Stunden übernehmen Ehrenamtliche aus dem Förderverein, die auch eine Vorlesestunde für Kinder anbieten.
Bücher können weiterhin jederzeit über den Rückgabekasten neben dem Eingang zurückgegeben werden."""),
    ("https://rutas-de-la-sierra.example/es/rutas/circular-de-la-cresta", "2019-04-08T07:45:00Z", """\
Ruta circular por la cresta
Esta ruta circular tiene unos once kilómetros y se recorre en unas cuatro horas.
Aparca en el pequeño apartadero frente a la granja y sigue el camino que sube junto al viejo granero.
La subida es constante pero no muy empinada, y las vistas se abren después de la segunda cancela.
El descenso sigue una pista pedregosa que resbala después de la lluvia, así que conviene llevar buenas botas.
Al final hay una cafetería en el pueblo que abre todos los días menos los lunes."""),
]


def pages() -> list[dict[str, str]]:
    """Every page, in one fixed order: the ordinary, rule and other-language pages interleaved
    as a crawl would give them, then the duplicates."""
    texts = {url: text for url, _, text in ORDINARY}
    written = [*ORDINARY, *C4_RULES, *OTHER_LANGUAGES]
    written.sort(key=lambda page: page[1])  # by timestamp
    written += [(url, timestamp, rewrite(texts[of])) for url, timestamp, of, rewrite in DUPLICATES]
    return [{"text": text, "timestamp": timestamp, "url": url} for url, timestamp, text in written]


def main() -> None:
    body = "".join(json.dumps(page, ensure_ascii=False) + "\n" for page in pages())
    with OUTPUT.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                                 compresslevel=9, mtime=0) as gz:
        gz.write(body.encode("utf-8"))
    print(f"{OUTPUT}: {len(pages())} pages")


if __name__ == "__main__":
    main()
