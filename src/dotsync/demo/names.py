"""Word lists the demo seeder draws from (names, streets, cities, products, brands)."""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Ivy", "Leo", "Freya", "Oscar",
    "Lily", "Harry", "Emily", "Jack", "Sophie", "Theo", "Grace", "Alfie", "Chloe", "Finn", "Ella", "Jacob",
    "Camille", "Louis", "Manon", "Hugo", "Léa", "Jules", "Chloé", "Gabriel", "Inès", "Raphaël", "Zoé",
    "Arthur", "Sarah", "Lucas", "Nina", "Paul", "Anna", "Tom", "Julia", "Max", "Laura", "Ben", "Emma",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson",
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
    "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "Fournier", "Müller", "Schmidt", "Fischer",
)  # fmt: skip
EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.org", "example.net", "mail.example", "post.example")
STREETS: tuple[str, ...] = (
    "High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane", "Manor Road",
    "Rue de la Paix", "Avenue Victor Hugo", "Rue du Commerce", "Market Street", "Mill Lane", "Park Avenue",
)  # fmt: skip
CITIES: dict[str, tuple[str, ...]] = {
    "GB": ("London", "Manchester", "Bristol", "Leeds", "Edinburgh", "Cardiff", "York"),
    "FR": ("Paris", "Lyon", "Marseille", "Lille", "Bordeaux", "Nantes"),
    "US": ("Boston", "Denver", "Austin", "Seattle"),
    "DE": ("Berlin", "Hamburg", "Munich"),
}
BRANDS: tuple[str, ...] = ("Northwind", "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne")
CATALOGUE: dict[str, tuple[str, ...]] = {
    "Clothing > Shirts": ("Oxford Shirt", "Linen Shirt", "Flannel Shirt", "Polo Shirt", "Denim Shirt"),
    "Clothing > Knitwear": ("Merino Jumper", "Cashmere Cardigan", "Cable Knit Sweater"),
    "Clothing > Shoes": ("Leather Boots", "Canvas Trainers", "Suede Loafers", "Running Shoes"),
    "Home > Kitchen": (
        "Coffee Mug",
        "Chef's Knife",
        "Cast Iron Pan",
        "Teapot",
        "Salad Bowl",
        "Espresso Cups",
    ),
    "Home > Lighting": ("Desk Lamp", "Pendant Light", "Floor Lamp", "Fairy Lights"),
    "Home > Textiles": ("Wool Throw", "Linen Cushion", "Cotton Towels"),
    "Books > Fiction": ("The Long Road", "Winter Tales", "A Quiet Harbour", "Paper Moons"),
    "Books > Cooking": ("Simple Suppers", "The Bread Book", "Vegetable Kingdom"),
    "Outdoor > Camping": ("Two-Person Tent", "Sleeping Bag", "Camping Stove", "Head Torch"),
    "Outdoor > Garden": ("Watering Can", "Secateurs", "Herb Planter"),
}
VARIANT_PRODUCTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Hooded Sweatshirt": ("Clothing > Knitwear", ("S", "M", "L", "XL")),
    "Chino Trousers": ("Clothing > Shirts", ("30", "32", "34")),
    "Rain Jacket": ("Outdoor > Camping", ("S", "M", "L")),
}
