"""Built-in name lists for the seed: people look real, and nobody real is in them.

E-mail domains are reserved example domains (RFC 2606/6761), so a seeded address can never
reach a real mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    language: str  # ISO 639-1, as the seed sends it as preferredLanguage
    country_id: int  # ISO 3166 numeric, as cTrader's contactDetails.countryId
    phone_prefix: str
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    cities: tuple[tuple[str, str, str], ...]  # (city, state, zip code pattern with # digits)
    streets: tuple[str, ...]


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


REGIONS_EU: tuple[Region, ...] = (
    Region(
        "de",
        276,
        "+49",
        _split("Lukas Anna Jonas Lea Felix Mia Paul Hannah Leon Sophie Maximilian Emilia Jürgen"),
        _split("Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Hoffmann Schäfer Koch"),
        (("Berlin", "Berlin", "10###"), ("München", "Bayern", "80###"), ("Köln", "NRW", "50###")),
        _split("Hauptstraße Bahnhofstraße Gartenweg Schillerstraße Lindenallee"),
    ),
    Region(
        "fr",
        250,
        "+33",
        _split("Camille Lucas Léa Hugo Chloé Louis Manon Gabriel Inès Arthur Zoé Théo"),
        _split("Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Lefèvre"),
        (("Paris", "Île-de-France", "750##"), ("Lyon", "Rhône", "690##")),
        _split("rue_de_la_Paix avenue_Victor_Hugo rue_Pasteur boulevard_Voltaire"),
    ),
    Region(
        "es",
        724,
        "+34",
        _split("Lucía Hugo Martina Mateo Sofía Daniel Paula Alejandro Julia Pablo Álvaro Carmen"),
        _split("García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Ruiz"),
        (("Madrid", "Madrid", "280##"), ("Barcelona", "Cataluña", "080##")),
        _split("calle_Mayor calle_del_Sol avenida_de_América paseo_de_Gracia"),
    ),
    Region(
        "it",
        380,
        "+39",
        _split("Leonardo Giulia Francesco Sofia Alessandro Aurora Lorenzo Ginevra Matteo Chiara"),
        _split("Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno"),
        (("Milano", "Lombardia", "201##"), ("Roma", "Lazio", "001##")),
        _split("via_Roma via_Garibaldi corso_Vittorio_Emanuele via_Dante"),
    ),
    Region(
        "pl",
        616,
        "+48",
        _split("Jakub Zuzanna Antoni Julia Jan Maja Szymon Zofia Filip Hanna Łukasz Agnieszka"),
        _split("Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński"),
        (("Warszawa", "Mazowieckie", "00-###"), ("Kraków", "Małopolskie", "30-###")),
        _split("ulica_Długa ulica_Polna ulica_Leśna ulica_Słoneczna"),
    ),
    Region(
        "el",
        196,
        "+357",
        _split("Andreas Maria Georgios Eleni Christos Katerina Nikos Sofia Panayiotis Despina"),
        _split("Georgiou Christodoulou Ioannou Constantinou Demetriou Papadopoulos Charalambous"),
        (("Limassol", "Limassol", "3###"), ("Nicosia", "Nicosia", "1###")),
        _split("Makariou_Avenue Archbishop_Kyprianou Anexartisias Griva_Digeni"),
    ),
    Region(
        "nl",
        528,
        "+31",
        _split("Daan Emma Sem Julia Lucas Tess Levi Sophie Finn Anna Bram Fleur"),
        _split("de_Jong Jansen de_Vries van_den_Berg van_Dijk Bakker Janssen Visser Smit Meijer"),
        (("Amsterdam", "Noord-Holland", "10## AB"), ("Utrecht", "Utrecht", "35## CD")),
        _split("Kerkstraat Dorpsstraat Molenweg Stationsweg"),
    ),
    Region(
        "pt",
        620,
        "+351",
        _split("João Maria Rodrigo Leonor Martim Matilde Tomás Beatriz Duarte Inês"),
        _split("Silva Santos Ferreira Pereira Oliveira Costa Rodrigues Martins Sousa Gonçalves"),
        (("Lisboa", "Lisboa", "1###-###"), ("Porto", "Porto", "4###-###")),
        _split("Rua_Augusta Avenida_da_Liberdade Rua_de_Santa_Catarina"),
    ),
)

REGIONS_WORLD: tuple[Region, ...] = (
    Region(
        "en",
        826,
        "+44",
        _split("Oliver Amelia George Isla Harry Ava Jack Emily Noah Grace Charlie Sophie Thomas"),
        _split("Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Wright Evans Walker"),
        (("London", "Greater London", "SW1A #AA"), ("Manchester", "Greater Manchester", "M# #AB")),
        _split("High_Street Station_Road Church_Lane Victoria_Road Park_Avenue"),
    ),
    Region(
        "en",
        36,
        "+61",
        _split("Jack Charlotte William Olivia Oliver Mia Henry Isla Lachlan Chloe"),
        _split("Smith Jones Williams Brown Wilson Taylor Nguyen Anderson Thompson Kelly"),
        (("Sydney", "NSW", "2###"), ("Melbourne", "VIC", "3###")),
        _split("George_Street Collins_Street Queen_Street Pitt_Street"),
    ),
    Region(
        "en",
        702,
        "+65",
        _split("Wei Hui_Min Jun_Jie Xin_Yi Ravi Priya Ahmad Nur Daniel Rachel"),
        _split("Tan Lim Lee Ng Ong Wong Goh Chua Koh Teo"),
        (("Singapore", "Singapore", "0#####"),),
        _split("Orchard_Road Raffles_Place Marina_Boulevard Cecil_Street"),
    ),
    Region(
        "ar",
        784,
        "+971",
        _split("Mohammed Fatima Ahmed Mariam Omar Aisha Khalid Noura Yousef Layla"),
        _split("Al_Mansouri Al_Hashimi Al_Falasi Al_Nuaimi Al_Shamsi Haddad Khoury Saleh"),
        (("Dubai", "Dubai", "#####"), ("Abu Dhabi", "Abu Dhabi", "#####")),
        _split("Sheikh_Zayed_Road Al_Wasl_Road Jumeirah_Beach_Road"),
    ),
    Region(
        "zh",
        156,
        "+86",
        _split("Wei Fang Jing Lei Min Yan Hao Li Na Jun Xiu Ying"),
        _split("Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou"),
        (("Shanghai", "Shanghai", "200###"), ("Shenzhen", "Guangdong", "518###")),
        _split("Nanjing_Road Huaihai_Road Shennan_Avenue"),
    ),
    Region(
        "ja",
        392,
        "+81",
        _split("Haruto Yui Sota Hina Yuto Sakura Ren Aoi Kaito Mei"),
        _split("Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato"),
        (("Tokyo", "Tokyo", "1##-####"), ("Osaka", "Osaka", "5##-####")),
        _split("Chuo-dori Omotesando Midosuji"),
    ),
    Region(
        "tr",
        792,
        "+90",
        _split("Yusuf Zeynep Eymen Elif Mustafa Defne Emir Asel Ömer Ecrin"),
        _split("Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir"),
        (("İstanbul", "İstanbul", "34###"), ("Ankara", "Ankara", "06###")),
        _split("İstiklal_Caddesi Bağdat_Caddesi Atatürk_Bulvarı"),
    ),
    Region(
        "pt",
        76,
        "+55",
        _split("Miguel Helena Arthur Alice Gael Laura Heitor Valentina Theo Manuela"),
        _split("Silva Santos Oliveira Souza Rodrigues Ferreira Alves Pereira Lima Gomes"),
        (("São Paulo", "SP", "01###-###"), ("Rio de Janeiro", "RJ", "20###-###")),
        _split("Avenida_Paulista Rua_Augusta Avenida_Atlântica"),
    ),
    Region(
        "vi",
        704,
        "+84",
        _split("Minh Anh Huy Linh Khoa Trang Nam Thảo Tuấn Ngọc"),
        _split("Nguyễn Trần Lê Phạm Hoàng Phan Vũ Võ Đặng Bùi"),
        (("Hà Nội", "Hà Nội", "100000"), ("Hồ Chí Minh", "Hồ Chí Minh", "700000")),
        _split("Lê_Lợi Nguyễn_Huệ Hai_Bà_Trưng"),
    ),
)

EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example", "inbox.test")
DESCRIPTIONS = ("", "", "", "Retail client", "VIP", "Migrated from MT4", "Introduced by IB")
