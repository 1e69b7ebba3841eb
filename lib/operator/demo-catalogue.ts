/** The demo catalogue the embedded mode seeds (`SEED_DEMO=1`); its pictures are in public/images/products. */
export interface DemoProduct {
	sku: string;
	name: string;
	category: string;
	price: number;
	description: string;
	stock: number;
	lowStockThreshold: number;
}

export const DEMO_CATALOGUE: DemoProduct[] = [
	{
		sku: "TEA-001",
		name: "Sencha Green Tea",
		category: "tea",
		price: 1290,
		stock: 40,
		lowStockThreshold: 5,
		description: "Steamed Japanese green tea with a fresh, grassy cup. 100 g loose leaf.",
	},
	{
		sku: "TEA-002",
		name: "Assam Breakfast",
		category: "tea",
		price: 990,
		stock: 60,
		lowStockThreshold: 8,
		description: "Malty, full-bodied black tea that takes milk well. 250 g loose leaf.",
	},
	{
		sku: "TEA-003",
		name: "Jasmine Pearls",
		category: "tea",
		price: 1890,
		stock: 12,
		lowStockThreshold: 3,
		description: "Hand-rolled green tea scented with jasmine blossoms. 80 g.",
	},
	{
		sku: "COF-001",
		name: "Ethiopia Yirgacheffe",
		category: "coffee",
		price: 1650,
		stock: 30,
		lowStockThreshold: 5,
		description: "Light roast with notes of bergamot and apricot. Whole beans, 250 g.",
	},
	{
		sku: "COF-002",
		name: "Colombia Huila",
		category: "coffee",
		price: 1450,
		stock: 35,
		lowStockThreshold: 5,
		description: "Medium roast, caramel and red apple. Whole beans, 250 g.",
	},
	{
		sku: "COF-003",
		name: "Espresso House Blend",
		category: "coffee",
		price: 1350,
		stock: 8,
		lowStockThreshold: 4,
		description: "Dark chocolate and hazelnut, built for the espresso machine. 500 g.",
	},
	{
		sku: "BRW-001",
		name: "Pour-over Dripper",
		category: "brewing",
		price: 2400,
		stock: 20,
		lowStockThreshold: 3,
		description: "Ceramic cone dripper for one to two cups.",
	},
	{
		sku: "BRW-002",
		name: "Gooseneck Kettle",
		category: "brewing",
		price: 5900,
		stock: 10,
		lowStockThreshold: 2,
		description: "1 litre stainless kettle with a precise pouring spout.",
	},
	{
		sku: "BRW-003",
		name: "Glass Teapot",
		category: "brewing",
		price: 3200,
		stock: 15,
		lowStockThreshold: 3,
		description: "Borosilicate teapot with a removable steel infuser, 800 ml.",
	},
	{
		sku: "ACC-001",
		name: "Stoneware Mug",
		category: "accessories",
		price: 1800,
		stock: 50,
		lowStockThreshold: 6,
		description: "Hand-glazed 350 ml mug, dishwasher safe.",
	},
	{
		sku: "ACC-002",
		name: "Bamboo Tea Scoop",
		category: "accessories",
		price: 650,
		stock: 5,
		lowStockThreshold: 2,
		description: "One level scoop is one cup of tea.",
	},
	{
		sku: "ACC-003",
		name: "Airtight Storage Tin",
		category: "accessories",
		price: 1500,
		stock: 25,
		lowStockThreshold: 4,
		description: "Keeps 250 g of tea or coffee fresh and dark.",
	},
];

/** Where a demo product's picture is served from. */
export function demoImageUrl(sku: string): string {
	return `/images/products/${sku.toLowerCase()}.svg`;
}
